import { masterKeyBoxes } from '../crypto/master-key-boxes.js';
import { rotateMasterKey } from '../domain/compliance/master-key-rotation.js';
import type { CliContext } from './cli-context.js';
import { loadCliConfig, withDomain } from './command-runtime.js';
import { ExitCode } from './exit-codes.js';
import { rotationProgress } from './rotation-progress.js';

/** Re-seals everything under the current master key and prints the counts (`tessera rotate-master-key`). */
export async function runRotateMasterKey(context: CliContext, batchSize: number): Promise<ExitCode> {
  const config = loadCliConfig(context);
  const { log, io } = context;
  const boxes = masterKeyBoxes(config.secrets.masterKey, config.secrets.previousMasterKeys);
  return withDomain(config, context, async (newOperation) => {
    const progress = rotationProgress(io.stderr);
    let counts;
    try {
      counts = await rotateMasterKey(newOperation(), boxes, { batchSize, onProgress: progress.update });
    } finally {
      progress.stop();
    }
    log.info({ masterKeyId: boxes.userKeys.keyId, resealed: counts }, 'master key rotated');
    for (const [kind, n] of Object.entries(counts)) io.stdout.write(`${kind} ${n}\n`);
    return ExitCode.ok;
  });
}
