import { Command, Option } from 'commander';
import type { S3Settings } from '@kbuild/loader/internal';

/** The S3 flags shared by every command that opens a store or an index; AWS_* variables fill what is not given. */
export function withS3Options(command: Command): Command {
  return command
    .option('--s3-endpoint <url>', 'S3 endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS)')
    .option('--s3-region <region>', 'S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1)')
    .option('--s3-access-key-id <id>', 'S3 access key id (default: AWS_ACCESS_KEY_ID)')
    .option('--s3-secret-access-key <secret>', 'S3 secret key (prefer AWS_SECRET_ACCESS_KEY: flags show in ps)')
    .addOption(new Option('--s3-path-style <yes|no>', 'path-style URLs (default: AWS_S3_FORCE_PATH_STYLE, else yes with a custom endpoint)').choices(['yes', 'no']));
}

export function s3SettingsFrom(opts: Record<string, unknown>): S3Settings {
  const text = (key: string): string | undefined => (typeof opts[key] === 'string' ? (opts[key] as string) : undefined);
  const endpoint = text('s3Endpoint');
  const region = text('s3Region');
  const accessKeyId = text('s3AccessKeyId');
  const secretAccessKey = text('s3SecretAccessKey');
  const pathStyle = text('s3PathStyle');
  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
    ...(accessKeyId === undefined ? {} : { accessKeyId }),
    ...(secretAccessKey === undefined ? {} : { secretAccessKey }),
    ...(pathStyle === undefined ? {} : { forcePathStyle: pathStyle === 'yes' }),
  };
}
