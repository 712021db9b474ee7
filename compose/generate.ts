/** Prints compose/docker-compose.yml: `node dist/compose/generate.js > compose/docker-compose.yml`. */
import { composeYaml } from './compose-file.js';

process.stdout.write(composeYaml());
