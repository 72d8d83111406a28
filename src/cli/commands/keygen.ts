import { generateKeyFiles } from '../../sign/signing-key.js';

/** Writes an ed25519 key pair: the private key signs index.json, the public key goes to the agents. */
export async function keygenCommand(opts: { out: string; json?: boolean }): Promise<number> {
  const keys = await generateKeyFiles(opts.out);
  if (opts.json === true) process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
  else process.stdout.write(`key id ${keys.keyId}\nprivate key (keep secret, --signing-key): ${keys.privateKey}\npublic key (ship to agents, --public-key): ${keys.publicKey}\n`);
  return 0;
}
