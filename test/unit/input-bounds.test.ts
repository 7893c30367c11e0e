import { expect } from 'chai';
import fc from 'fast-check';
import { Violations, type FieldViolation } from '../../src/domain/kernel/errors.js';
import {
  checkEmail,
  checkJson,
  checkNewPassword,
  checkPresentedPassword,
  checkRequestString,
  checkText,
  JSON_MAX_DEPTH,
  REQUEST_STRING_MAX_LENGTH,
} from '../../src/domain/kernel/validation.js';

/** Runs a check and returns the violations it recorded. */
function violationsOf(check: (violations: Violations) => unknown): FieldViolation[] {
  const violations = new Violations();
  check(violations);
  try {
    violations.throwIfAny('TEST-001');
    return [];
  } catch (err) {
    return (err as { violations: FieldViolation[] }).violations;
  }
}

/** Every control (Cc) and format (Cf) code point. */
const HIDDEN_CODE_POINTS = Array.from({ length: 0x110000 }, (_, c) => c).filter(
  (c) => (c < 0xd800 || c > 0xdfff) && /[\p{Cc}\p{Cf}]/u.test(String.fromCodePoint(c)),
);

/** Code units handed to String.prototype.normalize while `run` runs: the work a check does on its input. */
function normalizedUnits(run: () => void): number {
  const original = String.prototype.normalize;
  let units = 0;
  String.prototype.normalize = function (this: string, form?: string) {
    units += this.length;
    return original.call(this, form);
  };
  try {
    run();
  } finally {
    String.prototype.normalize = original;
  }
  return units;
}

/** Characters NFKC expands the most (U+FDFA to 18 code points, U+FB2C, U+3300) and astral ones. */
const expanding = fc.constantFrom('\uFDFA', '\uFB2C', '\u3300', '\u{1D400}', 'a');
const longInput = (min: number) =>
  fc.tuple(expanding, fc.integer({ min, max: 300_000 })).map(([char, count]) => char.repeat(count));

const BOUNDED_CHECKS: [string, number, (raw: string, v: Violations) => unknown][] = [
  ['checkNewPassword', 256, (raw, v) => checkNewPassword('password', raw, v, '')],
  ['checkPresentedPassword', 256, (raw, v) => checkPresentedPassword('password', raw, v)],
  ['checkEmail', 254, (raw, v) => checkEmail('email', raw, v)],
  ['checkText', 200, (raw, v) => checkText('full_name', raw, 200, v)],
];

describe('input bounds: checked on the raw input, before normalizing', () => {
  for (const [name, bound, check] of BOUNDED_CHECKS) {
    it(`${name}: normalizes at most 4 code units per allowed character, whatever the input`, () => {
      fc.assert(
        fc.property(longInput(1), (raw) => {
          const units = normalizedUnits(() => violationsOf((v) => check(raw, v)));
          expect(units).to.be.at.most(bound * 4);
        }),
        { numRuns: 60 },
      );
    });

    it(`${name}: refuses any input longer than 4 x ${bound} code units as too long`, () => {
      fc.assert(
        fc.property(longInput(bound * 4 + 1), (raw) => {
          fc.pre(raw.length > bound * 4);
          const violations = violationsOf((v) => check(raw, v));
          expect(violations.map((v) => v.description)).to.deep.equal([`must be at most ${bound} characters`]);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('refuses 1,000,000 x U+FDFA as a password within milliseconds', () => {
    const bomb = '\uFDFA'.repeat(1_000_000);
    const started = process.hrtime.bigint();
    const violations = violationsOf((v) => checkNewPassword('password', bomb, v, ''));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(violations.map((v) => v.field)).to.deep.equal(['password']);
    expect(ms).to.be.below(20);
  });

  it('still accepts a password of 256 decomposed characters (a letter and a combining accent each)', () => {
    const decomposed = 'e\u0301'.repeat(256); // 512 code units, 256 characters after NFKC
    expect(violationsOf((v) => checkNewPassword('password', decomposed, v, ''))).to.deep.equal([]);
  });
});

describe('checkEmail: invisible and control characters', () => {
  const hidden = fc.constantFrom(...HIDDEN_CODE_POINTS).map((c) => String.fromCodePoint(c));
  const local = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789._-'), minLength: 1, maxLength: 20 });

  it('refuses any address with a Cc or Cf character inside its local part', () => {
    fc.assert(
      fc.property(local, hidden, local, (before, char, after) => {
        const violations = violationsOf((v) => checkEmail('email', `${before}${char}${after}@example.com`, v));
        expect(violations.map((v) => v.field)).to.deep.equal(['email']);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts the same addresses without the hidden character', () => {
    fc.assert(
      fc.property(local, local, (before, after) => {
        expect(violationsOf((v) => checkEmail('email', `${before}${after}@example.com`, v))).to.deep.equal([]);
      }),
    );
  });

  it('names the refused code point, since it cannot be shown', () => {
    const [violation] = violationsOf((v) => checkEmail('email', 'vic\u200Btim@example.com', v));
    expect(violation.description).to.contain('U+200B');
  });

  for (const [name, char] of [
    ['U+3164 Hangul filler', '\u3164'],
    ['U+FE0F variation selector', '\uFE0F'],
    ['U+034F combining grapheme joiner', '\u034F'],
    ['U+E000 private use', '\uE000'],
    ['U+0378 unassigned', '\u0378'],
    ['a lone surrogate', '\uD800'],
  ]) {
    it(`refuses ${name}, invisible though not Cc or Cf`, () => {
      expect(violationsOf((v) => checkEmail('email', `vic${char}tim@example.com`, v))).to.have.length(1);
    });
  }

  it('still accepts internationalized local parts (RFC 6531)', () => {
    expect(violationsOf((v) => checkEmail('email', 'josé.müller@example.com', v))).to.deep.equal([]);
    expect(violationsOf((v) => checkEmail('email', '用户@example.com', v))).to.deep.equal([]);
  });
});

describe('passwords: NUL and control characters', () => {
  it('refuses any new password with a control character, and any presented password with NUL', () => {
    const control = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.string({ minLength: 8, maxLength: 40 }), control, (text, char) => {
        const password = `quiet otter ${text}`.slice(0, 100) + char;
        expect(violationsOf((v) => checkNewPassword('password', password, v, '')).map((v) => v.field)).to.deep.equal([
          'password',
        ]);
      }),
    );
    expect(violationsOf((v) => checkPresentedPassword('password', 'pass\u0000word', v))[0].description).to.contain('NUL');
    expect(violationsOf((v) => checkPresentedPassword('password', 'pass\u0007word', v))).to.deep.equal([]);
  });
});

describe('checkRequestString', () => {
  it('refuses any string with a NUL, naming the field', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (before, after) => {
        const violations = violationsOf((v) => checkRequestString('filter', `${before}\u0000${after}`, v));
        expect(violations).to.deep.equal([{ field: 'filter', description: 'must not contain NUL characters' }]);
      }),
    );
  });

  it(`accepts any NUL-free string of at most ${REQUEST_STRING_MAX_LENGTH} code units and refuses longer ones`, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        fc.pre(!text.includes('\u0000'));
        expect(violationsOf((v) => checkRequestString('reason', text, v))).to.deep.equal([]);
      }),
    );
    expect(violationsOf((v) => checkRequestString('reason', 'x'.repeat(REQUEST_STRING_MAX_LENGTH), v))).to.deep.equal([]);
    expect(violationsOf((v) => checkRequestString('reason', 'x'.repeat(REQUEST_STRING_MAX_LENGTH + 1), v))).to.have.length(1);
  });
});

describe('checkJson', () => {
  /** Puts `leaf` at a random place inside `value`, returning the new value and the path to it. */
  const withLeaf = (leaf: unknown) =>
    fc
      .tuple(fc.array(fc.string({ unit: fc.constantFrom(...'abcxyz_'), minLength: 1, maxLength: 6 }), { maxLength: 6 }))
      .map(([keys]) => {
        let value: unknown = leaf;
        for (const key of [...keys].reverse()) value = { [key]: value };
        return { value: { root: value }, path: ['prefs', 'root', ...keys].join('.') };
      });

  it('refuses a NUL in any string or key at any depth, naming its path', () => {
    fc.assert(
      fc.property(withLeaf('dark\u0000'), ({ value, path }) => {
        expect(violationsOf((v) => checkJson('prefs', value, v))).to.deep.equal([
          { field: path, description: 'must not contain NUL characters' },
        ]);
      }),
    );
    expect(violationsOf((v) => checkJson('prefs', { 'k\u0000': 1 }, v))[0].field).to.equal('prefs');
    expect(violationsOf((v) => checkJson('prefs', { list: ['a', 'b\u0000'] }, v))[0].field).to.equal('prefs.list[1]');
  });

  it('accepts any JSON value without NUL within the bounds', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        fc.pre(!JSON.stringify(value).includes('\\u0000'));
        expect(violationsOf((v) => checkJson('prefs', { value }, v))).to.deep.equal([]);
      }),
    );
  });

  it(`refuses nesting deeper than ${JSON_MAX_DEPTH} levels, however deep, after ${JSON_MAX_DEPTH} steps`, () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    expect(violationsOf((v) => checkJson('prefs', deep, v))).to.deep.equal([
      { field: 'prefs', description: `must nest at most ${JSON_MAX_DEPTH} levels deep` },
    ]);
    let fits: unknown = 'leaf';
    for (let i = 0; i < JSON_MAX_DEPTH; i++) fits = { d: fits };
    expect(violationsOf((v) => checkJson('prefs', fits, v))).to.deep.equal([]);
  });

  it('refuses a value larger than its bound', () => {
    expect(violationsOf((v) => checkJson('prefs', { k: 'x'.repeat(100) }, v, 64))[0].description).to.contain('at most 64');
    expect(
      violationsOf((v) =>
        checkJson(
          'prefs',
          Array.from({ length: 100 }, () => 1),
          v,
          64,
        ),
      ),
    ).to.have.length(1);
  });
});
