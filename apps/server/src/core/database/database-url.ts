/** Injection token for the resolved database URL (the configured one, or the embedded server's). */
export const DATABASE_URL = Symbol('DATABASE_URL');
