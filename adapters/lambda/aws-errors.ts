/** AWS SDK errors -> a UserError that names the step, the AWS error and what to do about it. */
import { UserError } from '../../src/util/errors.js';

const CREDENTIALS_HINT =
  'Give the AWS SDK credentials: AWS_PROFILE (after `aws configure` or `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN).';
const REFUSED_HINT = 'AWS refused the credentials: check AWS_PROFILE or the keys, or refresh an expired session (`aws sso login`).';
const PERMISSIONS_HINT =
  'Your identity lacks a permission for this step. wfn needs lambda:GetFunction, CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration, PublishVersion, GetAlias, CreateAlias, UpdateAlias, GetFunctionUrlConfig, CreateFunctionUrlConfig, UpdateFunctionUrlConfig, GetPolicy, AddPermission, RemovePermission, iam:PassRole, and without --role iam:GetRole, CreateRole, AttachRolePolicy, ListAttachedRolePolicies; to operate: lambda:ListFunctions, ListVersionsByFunction, DeleteFunction, DeleteFunctionUrlConfig, logs:FilterLogEvents.';
const ROLE_HINT = 'Pass --role with the ARN of an execution role that trusts lambda.amazonaws.com (or leave --role out: wfn then creates or reuses "wfn-lambda-basic").';

export function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? '';
}

export function isAwsError(error: unknown, ...names: string[]): boolean {
  return names.includes(errorName(error));
}

/** `what` names the command ("Lambda deploy", "wfn logs on Lambda"). */
export function awsUserError(error: unknown, step: string, endpoint?: string, what = 'Lambda deploy'): UserError {
  if (error instanceof UserError) return error;
  const name = errorName(error) || 'Error';
  const message = (error as Error)?.message ?? String(error);
  const code = (error as NodeJS.ErrnoException)?.code;
  let hint: string | undefined;
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) hint = CREDENTIALS_HINT;
  else if (/region is missing/i.test(message)) hint = 'Set AWS_REGION (or a region for your AWS_PROFILE in ~/.aws/config).';
  else if (['UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch', 'ExpiredToken', 'ExpiredTokenException'].includes(name)) hint = REFUSED_HINT;
  else if (['AccessDenied', 'AccessDeniedException'].includes(name)) hint = PERMISSIONS_HINT;
  else if (/role/i.test(message) && name === 'InvalidParameterValueException') hint = ROLE_HINT;
  else if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || /ECONNREFUSED|ENOTFOUND|getaddrinfo/.test(message)) {
    hint = `Could not reach ${endpoint ?? 'the AWS endpoint'}: check the network${endpoint ? ' and AWS_ENDPOINT_URL' : ''}.`;
  }
  return new UserError(`${what} failed at ${step}: ${name}: ${message}`, hint);
}
