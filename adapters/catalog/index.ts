// The market data catalog: Parquet partitions by date under a manifest, read into engine columns.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export { openCatalog, intervalUs, INTERVAL_US, type BarQuery, type Catalog, type BadRowsReport, type BadRow } from './open-catalog.ts';
export { importFiles, type ImportOptions, type ImportReport } from './import-files.ts';
export type { Manifest, ManifestFile, DataKind } from './manifest.ts';

/** The bundled sample catalog, <repo>/data/catalog, wherever the command is run from. */
export const DEFAULT_CATALOG_DIR: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../data/catalog');
