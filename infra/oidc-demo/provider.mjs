// Demo OpenID Provider for `docker compose --profile sso up`: oidc-provider (certified) with its development
// login screen (any login, any password; the login becomes <login>@${DEMO_EMAIL_DOMAIN}). Not for production.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 7430);
const issuer = process.env.ISSUER ?? `http://127.0.0.1:${port}`;
const domain = process.env.DEMO_EMAIL_DOMAIN ?? 'example.com';
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID ?? 'yoke',
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: (process.env.REDIRECT_URIS ?? 'http://127.0.0.1:7420/api/v1/auth/oidc/callback').split(','),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, email: `${id}@${domain}`, email_verified: true, name: id }),
  }),
});
provider.listen(port, '0.0.0.0', () => console.log(`demo OIDC provider at ${issuer}`));
