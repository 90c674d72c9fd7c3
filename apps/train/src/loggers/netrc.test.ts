import { describe, expect, it } from 'vitest';
import { findNetrcPassword } from './netrc.js';

describe('findNetrcPassword', () => {
  it('reads the entry `wandb login` writes', () => {
    const text = 'machine api.wandb.ai\n  login user\n  password 0123456789abcdef0123456789abcdef01234567\n';
    expect(findNetrcPassword(text, 'api.wandb.ai')).toBe('0123456789abcdef0123456789abcdef01234567');
    expect(findNetrcPassword(text, 'wandb.example.com')).toBeUndefined();
  });

  it('handles one-line entries, comments, quotes, several machines and the default entry', () => {
    const text = [
      '# my hosts',
      'machine github.com login me password gh-token',
      'machine localhost:8080 login user password "with space"  # local server',
      'default login anon password fallback-key',
    ].join('\n');
    expect(findNetrcPassword(text, 'github.com')).toBe('gh-token');
    expect(findNetrcPassword(text, 'localhost:8080')).toBe('with space');
    expect(findNetrcPassword(text, 'api.wandb.ai')).toBe('fallback-key');
  });

  it('ignores a machine without a password', () => {
    expect(findNetrcPassword('machine api.wandb.ai login user\nmachine other password x', 'api.wandb.ai')).toBeUndefined();
    expect(findNetrcPassword('', 'api.wandb.ai')).toBeUndefined();
  });
});
