// The browser's half of passkeys: navigator.credentials with the server's JSON options, answered
// as WebAuthn L3's RegistrationResponseJSON / AuthenticationResponseJSON (base64url fields, as
// Amplify v6 serialises them). Failures carry Amplify's PasskeyError names.
const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const b64u = (b) => b ? btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "") : undefined;
const ids = (list) => (list || []).map((c) => ({ ...c, id: bytes(c.id) }));

async function run(json, create) {
  const o = JSON.parse(json);
  try {
    if (!globalThis.PublicKeyCredential || !navigator.credentials) throw { name: "NotSupported" };
    const c = await navigator.credentials[create ? "create" : "get"]({
      publicKey: create
        ? { ...o, challenge: bytes(o.challenge), user: { ...o.user, id: bytes(o.user.id) }, excludeCredentials: ids(o.excludeCredentials) }
        : { ...o, challenge: bytes(o.challenge), allowCredentials: ids(o.allowCredentials) },
    });
    const r = c.response;
    return JSON.stringify({
      id: c.id, rawId: b64u(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults(),
      response: create
        ? { clientDataJSON: b64u(r.clientDataJSON), attestationObject: b64u(r.attestationObject),
            transports: r.getTransports ? r.getTransports() : [], publicKeyAlgorithm: r.getPublicKeyAlgorithm?.(),
            publicKey: b64u(r.getPublicKey?.()), authenticatorData: b64u(r.getAuthenticatorData?.()) }
        : { clientDataJSON: b64u(r.clientDataJSON), authenticatorData: b64u(r.authenticatorData),
            signature: b64u(r.signature), userHandle: b64u(r.userHandle) },
    });
  } catch (e) {
    const n = e.name;
    const error = new Error(e.message || "passkeys are not supported here");
    error.name = n === "NotSupported" ? "PasskeyNotSupported"
      : n === "NotAllowedError" ? (create ? "PasskeyRegistrationCanceled" : "PasskeyAuthenticationCanceled")
      : n === "InvalidStateError" && create ? "PasskeyAlreadyExists"
      : n === "AbortError" ? "PasskeyOperationAborted"
      : n === "SecurityError" ? "RelyingPartyMismatch"
      : create ? "PasskeyRegistrationFailed" : "PasskeyRetrievalFailed";
    throw error;
  }
}

export const passkeyCreate = (json) => run(json, true);
export const passkeyGet = (json) => run(json, false);
