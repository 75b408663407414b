/**
 * The one byte formatter: binary units with their IEC names (1 KiB = 1024 B), everywhere wfn
 * prints a size it measured (build, inspect, deploy, bench, logs). Provider limits keep the
 * provider's own wording ("3 MB compressed").
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1048576).toFixed(2)} MiB`;
}
