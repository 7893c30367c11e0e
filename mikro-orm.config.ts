// Configuration for the MikroORM CLI (`npm run migration:create`, schema diffs).
// The service itself builds the same options in src/db/orm.ts.
import { ormOptions } from './src/db/orm.js';

export default ormOptions(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tessera_dev');
