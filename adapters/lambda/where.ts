/** Where a Lambda function lives, in words (no SDK: `describe()` is said before anything loads). */

export function regionOf(env: NodeJS.ProcessEnv): string {
  return env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? `the region of AWS profile ${env.AWS_PROFILE ?? 'default'}`;
}

export function describeLambda(name: string, env: NodeJS.ProcessEnv): string {
  const endpoint = env.AWS_ENDPOINT_URL_LAMBDA ?? env.AWS_ENDPOINT_URL;
  return `Lambda function ${name} in ${regionOf(env)}${endpoint ? ` (endpoint ${endpoint})` : ''}`;
}
