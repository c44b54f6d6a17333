import { chooseServices, engineEndpoint, LOCAL_DATABASE_URL, LOCAL_REDIS_URL, needsEngine } from './services';

const PG = 'postgresql://ci@db.internal:5432/yoke';
const REDIS = 'redis://cache.internal:6379';

describe('chooseServices', () => {
  it('takes DATABASE_URL and REDIS_URL first, whether or not an engine answers', () => {
    for (const engine of [true, false]) {
      expect(chooseServices({ DATABASE_URL: PG, REDIS_URL: REDIS }, engine)).toEqual({
        postgres: { source: 'env', url: PG },
        redis: { source: 'env', url: REDIS },
      });
    }
  });

  it('starts containers for what the environment does not name when an engine answers', () => {
    expect(chooseServices({}, true)).toEqual({ postgres: { source: 'container' }, redis: { source: 'container' } });
    expect(chooseServices({ DATABASE_URL: PG }, true)).toEqual({
      postgres: { source: 'env', url: PG },
      redis: { source: 'container' },
    });
  });

  it('falls back to the local services on their default ports without an engine', () => {
    expect(chooseServices({}, false)).toEqual({
      postgres: { source: 'local', url: LOCAL_DATABASE_URL },
      redis: { source: 'local', url: LOCAL_REDIS_URL },
    });
    expect(chooseServices({ REDIS_URL: REDIS, DATABASE_URL: '' }, false)).toEqual({
      postgres: { source: 'local', url: 'postgresql://postgres@127.0.0.1:5432/test' },
      redis: { source: 'env', url: REDIS },
    });
  });

  it('asks about the engine only while a service is left to choose', () => {
    expect(needsEngine({ DATABASE_URL: PG, REDIS_URL: REDIS })).toBe(false);
    expect(needsEngine({ DATABASE_URL: PG })).toBe(true);
    expect(needsEngine({})).toBe(true);
  });
});

describe('engineEndpoint', () => {
  const none = () => false;

  it('follows DOCKER_HOST: unix socket, plain tcp, or tls', () => {
    expect(engineEndpoint({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, none)).toEqual({
      kind: 'socket',
      socketPath: '/run/user/1000/docker.sock',
    });
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2375' }, none)).toEqual({
      kind: 'tcp',
      host: '10.0.0.5',
      port: 2375,
    });
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://docker.internal', DOCKER_TLS_VERIFY: '1' }, none)).toEqual({
      kind: 'tls',
      host: 'docker.internal',
      port: 2376,
    });
  });

  it('probes nothing for a DOCKER_HOST it cannot reach cheaply', () => {
    expect(engineEndpoint({ DOCKER_HOST: 'ssh://me@build-box' }, () => true)).toBeNull();
    expect(engineEndpoint({ DOCKER_HOST: 'not a url' }, () => true)).toBeNull();
  });

  it('otherwise takes the first socket that exists: system, rootless, Docker Desktop', () => {
    const env = { HOME: '/home/me', XDG_RUNTIME_DIR: '/run/user/1000' };
    const only = (path: string) => (p: string) => p === path;
    expect(engineEndpoint(env, () => true)).toEqual({ kind: 'socket', socketPath: '/var/run/docker.sock' });
    expect(engineEndpoint(env, only('/run/user/1000/docker.sock'))).toEqual({
      kind: 'socket',
      socketPath: '/run/user/1000/docker.sock',
    });
    expect(engineEndpoint(env, only('/home/me/.docker/run/docker.sock'))).toEqual({
      kind: 'socket',
      socketPath: '/home/me/.docker/run/docker.sock',
    });
  });

  it('finds no engine when there is no socket and no DOCKER_HOST', () => {
    expect(engineEndpoint({ HOME: '/home/me' }, none)).toBeNull();
  });
});
