/** The Google OIDC provisioner the stack tests configure; each test passes its own client secret to look for. */
export function oidcProvisioner(clientSecret: string) {
    return {
        type: "OIDC",
        name: "google",
        clientID: "1234-abc.apps.googleusercontent.com",
        clientSecret,
        configurationEndpoint: "https://accounts.google.com/.well-known/openid-configuration",
        domains: ["example.com"],
    };
}
