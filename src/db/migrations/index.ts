import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122193451_initial } from './Migration20261122193451_initial.js';
import { Migration20261122201651_identity_administration } from './Migration20261122201651_identity_administration.js';

/** Every migration, in order. Listed explicitly so no file glob is involved at run time. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261122193451_initial', class: Migration20261122193451_initial },
  { name: 'Migration20261122201651_identity_administration', class: Migration20261122201651_identity_administration },
];
