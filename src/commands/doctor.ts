import { WfnCommand } from '../cli/base.js';
import { style } from '../util/style.js';
import { runDoctor } from '../project/doctor.js';

export default class Doctor extends WfnCommand {
  static summary = 'Check every toolchain and tool wfn uses, and say exactly how to fix what is missing.';
  static examples = ['wfn doctor', 'wfn doctor --json'];

  async run() {
    this.progress('checking toolchains');
    const sections = await runDoctor();
    for (const section of sections) {
      // ✓ only when every line below is fine: a usable section with a broken alternative gets "!".
      const broken = section.tools.some((t) => t.found && !t.usable);
      const mark = !section.ok ? style.red('✗') : broken ? style.yellow('!') : style.green('✓');
      this.log(`${mark} ${section.name}${section.ok && broken ? style.dim(' (usable; one of its tools is broken, see below)') : ''}`);
      for (const t of section.tools) {
        const mark = t.usable ? style.green('  ok     ') : t.found ? style.yellow('  broken ') : t.optional ? style.dim('  absent ') : style.red('  missing');
        this.log(`${mark} ${t.name}${t.version ? ` ${style.dim(t.version)}` : ''}${t.detail ? style.dim(` — ${t.detail}`) : ''}`);
        if (!t.usable && t.fix) this.log(`           fix: ${t.fix}`);
      }
    }
    return { ok: sections.every((s) => s.ok), sections };
  }
}
