// MAX_RUN_MINUTES (operations.md, "Schedule and failure detection": a run that exceeds a maximum
// duration is stopped; "Configuration": numbers are whole numbers, at least 1). The stop itself is
// proven on the program in reliability/maxRunTime.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIG_VARIABLES, DEFAULT_MAX_RUN_MINUTES, describeConfig, loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';

describe('MAX_RUN_MINUTES', () => {
  it('defaults to 60 minutes and is shown in the effective configuration', () => {
    const c = loadConfig({});
    assert.equal(DEFAULT_MAX_RUN_MINUTES, 60);
    assert.equal(c.maxRunMinutes, 60);
    assert.deepEqual(describeConfig(c).find(([n]) => n === 'MAX_RUN_MINUTES'), ['MAX_RUN_MINUTES', '60']);
  });

  it('takes a whole number of minutes', () => {
    assert.equal(loadConfig({ MAX_RUN_MINUTES: '90' }).maxRunMinutes, 90);
    assert.equal(loadConfig({ MAX_RUN_MINUTES: ' 1 ' }).maxRunMinutes, 1);
  });

  for (const bad of ['0', '-1', '1.5', '90m', 'one hour']) {
    it(`refuses "${bad}" naming the variable and the form`, () => {
      assert.throws(
        () => loadConfig({ MAX_RUN_MINUTES: bad }),
        (err: unknown) => err instanceof ConfigError && err.message === `MAX_RUN_MINUTES must be a whole number, at least 1 (got "${bad.trim()}")`,
      );
    });
  }

  it('is one of the variables the deploy tool and CDK accept', () => {
    assert.ok(CONFIG_VARIABLES.includes('MAX_RUN_MINUTES'));
  });
});
