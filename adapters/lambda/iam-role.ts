/** The minimal execution role wfn creates (or reuses) when --role is not given. */
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { awsUserError, isAwsError } from './aws-errors.js';

export const ROLE_NAME = 'wfn-lambda-basic';

/** Lets Lambda assume the role, nothing else. */
export const TRUST_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** AWS's managed policy for writing CloudWatch Logs, in the role's partition (aws, aws-cn, aws-us-gov). */
export function basicExecutionPolicyArn(roleArn: string): string {
  const partition = roleArn.split(':')[1] || 'aws';
  return `arn:${partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`;
}

export interface ExecutionRole {
  arn: string;
  created: boolean;
}

export async function ensureExecutionRole(iam: IAMClient, log: (message: string) => void): Promise<ExecutionRole> {
  let arn: string;
  let created = false;
  try {
    const found = await iam.send(new GetRoleCommand({ RoleName: ROLE_NAME }));
    arn = found.Role!.Arn!;
  } catch (error) {
    if (!isAwsError(error, 'NoSuchEntity', 'NoSuchEntityException')) throw awsUserError(error, `iam:GetRole ${ROLE_NAME}`);
    try {
      const made = await iam.send(
        new CreateRoleCommand({
          RoleName: ROLE_NAME,
          AssumeRolePolicyDocument: JSON.stringify(TRUST_POLICY),
          Description: 'Execution role for wfn functions: lets Lambda run them and write their logs, nothing else.',
        }),
      );
      arn = made.Role!.Arn!;
      created = true;
    } catch (createError) {
      throw awsUserError(createError, `iam:CreateRole ${ROLE_NAME}`);
    }
  }
  const policyArn = basicExecutionPolicyArn(arn);
  try {
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: ROLE_NAME }));
    if (!attached.AttachedPolicies?.some((p) => p.PolicyArn === policyArn)) {
      await iam.send(new AttachRolePolicyCommand({ RoleName: ROLE_NAME, PolicyArn: policyArn }));
    }
  } catch (error) {
    throw awsUserError(error, `iam:AttachRolePolicy ${ROLE_NAME}`);
  }
  log(
    created
      ? `created the execution role ${ROLE_NAME} (${arn}): Lambda may assume it, and it may write CloudWatch Logs (AWSLambdaBasicExecutionRole); pass --role to use your own`
      : `using the execution role ${ROLE_NAME} (${arn}); pass --role to use your own`,
  );
  return { arn, created };
}
