/** Test data shaped exactly as the protocol schemas parse it, shared with the client library's tests. */
export { makeNotice, makeSession, SESSION_ID } from '../../../../../libs/client/src/testing/fixtures';
