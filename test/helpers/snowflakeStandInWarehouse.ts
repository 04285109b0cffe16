// The Snowflake stand-in's warehouse (tests and the benchmark only; it is not Snowflake): each
// statement a Snowflake session sends is run as its DuckDB twin on a warehouse file, and the
// result goes back in Snowflake's JSON result format.
//
//  - Twins: a TwinLookup (detectionTwins.ts) maps the Snowflake text of a statement to the DuckDB
//    statement of the same step; a statement without a twin is refused, so a Snowflake statement
//    the plan does not know shows up.
//  - One DuckDB connection per Snowflake session (its temporary tables live there), on one
//    in-memory instance with the warehouse file attached read-only under the database name the
//    job uses; the connection follows the session's TIMEZONE.
//  - Results: DuckDB writes each row as the JSON array of its wire values (every value text or
//    null, as Snowflake sends them: fixed-point as decimal text, booleans 1/0, dates as days since
//    the epoch, timestamps as epoch seconds with nine fraction digits), with the rowtype Snowflake
//    would give. The first rows go inline, the rest in gzip chunks that start small and double up
//    to a compressed size of CLIENT_RESULT_CHUNK_SIZE / 10 MB (the service's observed behaviour:
//    snowflake-connector-nodejs issue #790).
import { gzipSync } from 'node:zlib';
import { DuckDBDecimalType, DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { duckdbText } from '../../src/sqlText.js';
import { col, type ColumnSpec, type RecordedStatement, type Reply, type SessionExecutor, type StatementExecutor, type StoredChunk } from './snowflakeStandIn.js';

/** The DuckDB statement that does what a Snowflake statement does. */
export interface Twin {
  readonly sql: string;
  readonly params: readonly (string | number | boolean | null)[];
  readonly kind: 'execute' | 'query' | 'stream' | 'insertRows';
  /** insertRows: the rows arrive as the Snowflake statement's array binds. */
  readonly insert?: { readonly table: string; readonly columns: readonly string[] };
  /** The statement that reads the run's clock T (its column `t`). */
  readonly clock?: boolean;
}

export interface TwinLookup {
  /** What every new DuckDB connection runs first (the DuckDB dialect's session setup). */
  readonly setup: readonly string[];
  /** The twin of a Snowflake statement; `clock`: T once this session has read it. */
  twin(sql: string, clock: string | undefined): Twin | undefined;
  /** T from the value the clock statement returned. */
  clockFrom(value: string): string;
}

export interface WarehouseFile {
  /** The DuckDB warehouse file (BI tables of warehouse-columns.tsv). */
  readonly path: string;
  /** The name it is attached under: the job's SNOWFLAKE_DATABASE. */
  readonly database: string;
  readonly twins: TwinLookup;
  /**
   * Sizes of the inline part (uncompressed) and of the first chunk (compressed), bytes; defaults
   * 64 KB and 128 KB. Tests make them small, so the results of a small warehouse span chunks.
   */
  readonly inlineBytes?: number;
  readonly firstChunkBytes?: number;
  /** CLIENT_RESULT_CHUNK_SIZE whatever the session sets (an experiment: the account default's chunks). */
  readonly chunkSizeMb?: number;
}

/** What the stand-in sent, for the benchmark's log and the tests. */
export interface WarehouseStats {
  statements: number;
  resultRows: number;
  chunks: number;
  uncompressedBytes: number;
  compressedBytes: number;
  largestChunkBytes: number;
}

const { str, ident } = duckdbText;
const INLINE_BYTES = 64 * 1024;
const FIRST_CHUNK_BYTES = 128 * 1024;
const MB = 1024 * 1024;

export interface WarehouseExecutor extends StatementExecutor {
  readonly stats: WarehouseStats;
  close(): Promise<void>;
}

export async function warehouseExecutor(file: WarehouseFile): Promise<WarehouseExecutor> {
  const instance = await DuckDBInstance.create(':memory:');
  const admin = await instance.connect();
  await admin.run(`ATTACH ${str(file.path)} AS ${ident(file.database)} (READ_ONLY)`);
  const stats: WarehouseStats = { statements: 0, resultRows: 0, chunks: 0, uncompressedBytes: 0, compressedBytes: 0, largestChunkBytes: 0 };
  const sessions = new Set<DuckDbSessionExecutor>();
  return {
    stats,
    open(parameters) {
      const s = new DuckDbSessionExecutor(instance, file, parameters, stats);
      sessions.add(s);
      return s;
    },
    async close() {
      for (const s of sessions) await s.close();
      admin.closeSync();
      instance.closeSync();
    },
  };
}

class DuckDbSessionExecutor implements SessionExecutor {
  private readonly conn: Promise<DuckDBConnection>;
  private zone: string | undefined;
  private clock: string | undefined;
  private closed = false;

  private readonly twins: TwinLookup;

  constructor(
    instance: DuckDBInstance,
    private readonly file: WarehouseFile,
    parameters: Readonly<Record<string, string | number | boolean>>,
    private readonly stats: WarehouseStats,
  ) {
    this.twins = file.twins;
    this.conn = (async () => {
      const c = await instance.connect();
      for (const s of file.twins.setup) await c.run(s);
      return c;
    })();
    this.conn.catch(() => undefined);
    void this.followZone(parameters);
  }

  private async followZone(parameters: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    const zone = String(parameters.TIMEZONE ?? 'America/Los_Angeles');
    if (zone === this.zone) return;
    this.zone = zone;
    await (await this.conn).run(`SET TimeZone = ${str(zone)}`);
  }

  async run(stmt: RecordedStatement, parameters: Readonly<Record<string, string | number | boolean>>): Promise<Reply | undefined> {
    const conn = await this.conn;
    await this.followZone(parameters);
    if (/^\s*ALTER\s+SESSION\b/i.test(stmt.sql)) return undefined;
    const twin = this.twins.twin(stmt.sql, this.clock);
    if (!twin) return undefined;
    this.stats.statements++;
    if (twin.kind === 'insertRows') return { dml: 'insert', count: await insertBound(conn, twin, stmt) };
    if (twin.kind === 'execute') {
      const r = await conn.run(twin.sql, twin.params as DuckDBValue[]);
      if (/^\s*INSERT\b/i.test(twin.sql)) return { dml: 'insert', count: Number(r.rowsChanged) };
      const table = /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?TABLE\s+(\w+)/i.exec(twin.sql)?.[1];
      return { columns: [col('status', 'text')], rows: [[table ? `Table ${table.toUpperCase()} successfully created.` : 'Statement executed successfully.']] };
    }
    const chunkSizeMb = Math.max(16, Math.min(160, Number(this.file.chunkSizeMb ?? parameters.CLIENT_RESULT_CHUNK_SIZE ?? 160)));
    const sizes = { inline: this.file.inlineBytes ?? INLINE_BYTES, first: this.file.firstChunkBytes ?? FIRST_CHUNK_BYTES, cap: chunkSizeMb * (MB / 10) };
    const result = await wireResult(conn, twin, sizes, this.stats);
    if (twin.clock) {
      const first = (JSON.parse(`[${result.inline}]`) as Array<Array<string | null>>)[0];
      const i = result.columns.findIndex((c) => c.name === 't');
      if (!first || i < 0 || typeof first[i] !== 'string') throw new Error('stand-in: the clock twin returned no t');
      this.clock = this.twins.clockFrom(first[i] as string);
    }
    return result;
  }

  interrupt(): void {
    void this.conn.then((c) => c.interrupt()).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      (await this.conn).closeSync();
    } catch {
      // never opened
    }
  }
}

/** Array binding: one VALUES row of placeholders, one array per column (the driver's insertRows). */
async function insertBound(conn: DuckDBConnection, twin: Twin, stmt: RecordedStatement): Promise<number> {
  const insert = twin.insert as NonNullable<Twin['insert']>;
  const width = insert.columns.length;
  const binds = stmt.bindings ?? {};
  const columns: unknown[][] = [];
  for (let k = 1; k <= width; k++) {
    const v = binds[String(k)]?.value;
    columns.push(Array.isArray(v) ? v : [v]);
  }
  const n = columns[0]?.length ?? 0;
  const per = Math.max(1, Math.floor(1000 / width));
  const names = insert.columns.map(ident).join(', ');
  for (let i = 0; i < n; i += per) {
    const m = Math.min(per, n - i);
    const values: DuckDBValue[] = [];
    for (let r = i; r < i + m; r++) for (const c of columns) values.push(c[r] as DuckDBValue);
    const rows = Array.from({ length: m }, () => `(${insert.columns.map(() => '?').join(', ')})`).join(', ');
    await conn.run(`INSERT INTO ${insert.table} (${names}) VALUES ${rows}`, values);
  }
  return n;
}

/** Seconds since the epoch with nine fraction digits, from microseconds (negative: signed). */
function epochText(us: string): string {
  return `CASE WHEN ${us} < 0 THEN '-' ELSE '' END || CAST(abs(${us}) // 1000000 AS VARCHAR) || '.' || lpad(CAST(abs(${us}) % 1000000 AS VARCHAR), 6, '0') || '000'`;
}

const INTEGER_TYPES = new Set<DuckDBTypeId>([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
]);

/** The Snowflake column a DuckDB column becomes, and the expression of its wire value over `c`. */
function wireColumn(name: string, type: DuckDBType, c: string): [ColumnSpec, string] {
  const id = type.typeId;
  if (id === DuckDBTypeId.VARCHAR) return [col(name, 'text'), c];
  if (id === DuckDBTypeId.BOOLEAN) return [col(name, 'boolean'), `CASE WHEN ${c} THEN '1' WHEN NOT ${c} THEN '0' END`];
  // Snowflake's integers are NUMBER(38,0), whatever their size
  if (INTEGER_TYPES.has(id)) return [col(name, 'fixed', { precision: 38, scale: 0 }), `CAST(${c} AS VARCHAR)`];
  if (type instanceof DuckDBDecimalType) return [col(name, 'fixed', { precision: type.width, scale: type.scale }), `CAST(${c} AS VARCHAR)`];
  if (id === DuckDBTypeId.DOUBLE || id === DuckDBTypeId.FLOAT) {
    return [col(name, 'real'), `CASE WHEN isnan(${c}) THEN 'NaN' WHEN isinf(${c}) THEN CASE WHEN ${c} > 0 THEN 'inf' ELSE '-inf' END ELSE CAST(${c} AS VARCHAR) END`];
  }
  if (id === DuckDBTypeId.DATE) return [col(name, 'date'), `CAST(${c} - DATE '1970-01-01' AS VARCHAR)`];
  if (id === DuckDBTypeId.TIMESTAMP || id === DuckDBTypeId.TIMESTAMP_S || id === DuckDBTypeId.TIMESTAMP_MS || id === DuckDBTypeId.TIMESTAMP_NS) {
    return [col(name, 'timestamp_ntz', { scale: 9 }), epochText(`epoch_us(CAST(${c} AS TIMESTAMP))`)];
  }
  if (id === DuckDBTypeId.TIMESTAMP_TZ) return [col(name, 'timestamp_ltz', { scale: 9 }), epochText(`epoch_us(${c})`)];
  throw new Error(`stand-in: no Snowflake type for the DuckDB type ${type.toString()} of column ${name}`);
}

/** A twin's result as Snowflake stores it: typed columns, rows as wire JSON, inline part and chunks. */
async function wireResult(conn: DuckDBConnection, twin: Twin, sizes: ChunkSizes, stats: WarehouseStats): Promise<Extract<Reply, { inline: string }>> {
  const params = twin.params as DuckDBValue[];
  const prepared = await conn.prepare(twin.sql);
  if (params.length) prepared.bind(params);
  const columns: ColumnSpec[] = [];
  const exprs: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < prepared.columnCount; i++) {
    const [spec, expr] = wireColumn(prepared.columnName(i), prepared.columnType(i), `c${i}`);
    columns.push(spec);
    exprs.push(expr);
    names.push(`c${i}`);
  }
  const wrapped = `SELECT CAST(json_array(${exprs.join(', ')}) AS VARCHAR) AS "row" FROM (${twin.sql}) AS t(${names.join(', ')})`;
  const result = await conn.stream(wrapped, params);
  const out = new ChunkWriter(sizes);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const v = chunk.getColumnVector(0);
    for (let j = 0; j < chunk.rowCount; j++) out.add(v.getItem(j) as string);
  }
  out.finish();
  stats.resultRows += out.inlineRows + out.chunks.reduce((s, c) => s + c.rowCount, 0);
  for (const c of out.chunks) {
    stats.chunks++;
    stats.uncompressedBytes += c.uncompressedSize;
    stats.compressedBytes += c.body.length;
    stats.largestChunkBytes = Math.max(stats.largestChunkBytes, c.uncompressedSize);
  }
  return { columns, inline: out.inline, inlineRows: out.inlineRows, chunks: out.chunks };
}

/** Bytes: the inline part (uncompressed), the first chunk and the largest (compressed). */
interface ChunkSizes {
  readonly inline: number;
  readonly first: number;
  readonly cap: number;
}

/** Rows (JSON texts) into an inline part and gzip chunks whose compressed size doubles up to a cap. */
class ChunkWriter {
  inline = '';
  inlineRows = 0;
  readonly chunks: StoredChunk[] = [];
  private inlineDone = false;
  private parts: string[] = [];
  private bytes = 0;
  /** Uncompressed bytes per compressed byte, from the last chunk (rows of a result look alike). */
  private ratio = 4;

  constructor(private readonly sizes: ChunkSizes) {}

  add(row: string): void {
    this.parts.push(row);
    this.bytes += row.length + 1;
    if (this.bytes >= this.target()) this.seal();
  }

  private target(): number {
    if (!this.inlineDone) return this.sizes.inline;
    return Math.min(this.sizes.cap, this.sizes.first * 2 ** this.chunks.length) * this.ratio;
  }

  private seal(): void {
    const text = this.parts.join(',');
    if (!this.inlineDone) {
      this.inline = text;
      this.inlineRows = this.parts.length;
      this.inlineDone = true;
    } else {
      const raw = Buffer.from(text, 'utf8');
      const body = gzipSync(raw);
      this.chunks.push({ body, rowCount: this.parts.length, uncompressedSize: raw.length });
      this.ratio = raw.length / body.length;
    }
    this.parts = [];
    this.bytes = 0;
  }

  finish(): void {
    if (this.parts.length) this.seal();
  }
}
