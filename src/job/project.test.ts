import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configureText } from './project.js';

describe('configure (cmake configure_file)', () => {
  it('replaces @VAR@ and ${VAR}, resolves #cmakedefine and #cmakedefine01', () => {
    const template = [
      '#define DRIVER_VERSION "${DRIVER_VERSION}"',
      '#define NAME "@DRIVER_NAME@"',
      '#cmakedefine HAS_X 1',
      '#cmakedefine HAS_Y @HAS_Y@',
      '#cmakedefine01 USE_Z',
      '#cmakedefine01 USE_W',
    ].join('\n');
    const out = configureText(template, { DRIVER_VERSION: '0.20.0', DRIVER_NAME: 'scap', HAS_X: true, HAS_Y: 'OFF', USE_Z: 1, USE_W: 'NO' }, 'driver_config.h.in');
    assert.equal(out, ['#define DRIVER_VERSION "0.20.0"', '#define NAME "scap"', '#define HAS_X 1', '/* #undef HAS_Y */', '#define USE_Z 1', '#define USE_W 0'].join('\n'));
  });
  it('a variable the template uses and the values lack is an error, not an empty string', () => {
    assert.throws(() => configureText('#define X "${GIT_COMMIT}"', {}, 'driver_config.h.in'), /configure driver_config\.h\.in: no value for GIT_COMMIT/);
  });
  it('an empty string is a value', () => {
    assert.equal(configureText('"${GIT_COMMIT}"', { GIT_COMMIT: '' }, 'x'), '""');
  });
});
