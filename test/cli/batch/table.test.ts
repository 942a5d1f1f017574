import { describe, expect, it } from 'vitest';
import { formatTable } from '../../../src/cli/batch/table.js';
import { parseState, stateName, stateNames } from '../../../src/cli/batch/states.js';
import { BatchState, BatchStateSchema, CardState, CardStateSchema } from '../../../src/gen/desfirepacs/v1/encoder_pb.js';

describe('formatTable', () => {
  it('aligns columns two spaces apart, numbers to the right, without trailing blanks', () => {
    expect(formatTable(['NAME', 'N', 'NOTE'], [['alpha', '1', ''], ['b', '1234', 'last']], [1])).toEqual(['NAME      N  NOTE', 'alpha     1', 'b      1234  last']);
  });

  it('a header alone', () => {
    expect(formatTable(['A', 'B'], [])).toEqual(['A  B']);
  });
});

describe('state names', () => {
  it('come from the proto enums, without UNSPECIFIED, in lower case', () => {
    expect(stateNames(BatchStateSchema)).toEqual(['created', 'running', 'completed', 'cancelled']);
    expect(stateNames(CardStateSchema)).toEqual(['pending', 'encoding', 'encoded', 'failed', 'refused']);
    expect(stateName(CardStateSchema, CardState.REFUSED)).toBe('refused');
    expect(stateName(BatchStateSchema, 9)).toBe('9');
  });

  it('parse in any case; unknown names and UNSPECIFIED are undefined', () => {
    expect(parseState(BatchStateSchema, 'Completed')).toBe(BatchState.COMPLETED);
    expect(parseState(BatchStateSchema, 'unspecified')).toBeUndefined();
    expect(parseState(BatchStateSchema, 'pending')).toBeUndefined();
  });
});
