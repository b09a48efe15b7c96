// `npm start` (after `npm run build`): infrastructure → databases → services → labelled logs → clean stop.
// Each step is in stack-runner.ts; tools/stack/README.md explains them and the variables.
import { stackServices } from './service-catalog.js';
import { loadStackConfig, StackConfigError } from './stack-config.js';
import { runStack } from './stack-runner.js';

async function main(): Promise<number> {
  const config = loadStackConfig(process.env);
  return runStack({ config, services: stackServices(config) });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof StackConfigError ? error.message : ((error as Error)?.stack ?? String(error))}\n`,
    );
    process.exit(1);
  },
);
