import { hasRole } from './roles';

describe('roles', () => {
  it('order auditor < member < admin < owner', () => {
    expect(hasRole('owner', 'admin')).toBe(true);
    expect(hasRole('admin', 'admin')).toBe(true);
    expect(hasRole('member', 'admin')).toBe(false);
    expect(hasRole('auditor', 'member')).toBe(false);
    expect(hasRole('auditor', 'auditor')).toBe(true);
  });
});
