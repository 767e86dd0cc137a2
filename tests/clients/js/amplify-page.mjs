// The page of the Amplify journey, bundled by esbuild and loaded by headless Chromium from a
// loopback origin other than Cognate's. It does no checking itself: amplify.cjs calls these
// functions through page.evaluate and asserts on what they return. Every call answers
// {ok: value} or {error: {name, message}} so errors cross into Node with their names.
import { Amplify } from 'aws-amplify';
import {
  signUp, confirmSignUp, signIn, getCurrentUser, fetchAuthSession, fetchUserAttributes,
  updateUserAttributes, signOut, confirmSignIn, setUpTOTP, verifyTOTPSetup, updateMFAPreference,
  fetchMFAPreference, associateWebAuthnCredential, listWebAuthnCredentials, deleteWebAuthnCredential,
} from 'aws-amplify/auth';

const settle = async (fn) => {
  try {
    return { ok: await fn() };
  } catch (error) {
    return { error: { name: error && error.name, message: error && error.message } };
  }
};

const tokensOf = (session) => ({
  idToken: session.tokens && session.tokens.idToken && session.tokens.idToken.toString(),
  accessToken: session.tokens && session.tokens.accessToken && session.tokens.accessToken.toString(),
  userSub: session.userSub,
});

/** What Amplify keeps in localStorage for the signed-in user (its refresh token included). */
const stored = (clientId) => {
  const prefix = `CognitoIdentityServiceProvider.${clientId}.`;
  const user = localStorage.getItem(`${prefix}LastAuthUser`);
  return {
    lastAuthUser: user,
    refreshToken: user && localStorage.getItem(`${prefix}${user}.refreshToken`),
  };
};

window.cognate = {
  configure: (config) => settle(() => {
    Amplify.configure({ Auth: { Cognito: config } });
    return Amplify.getConfig().Auth.Cognito.userPoolEndpoint;
  }),
  signUp: (username, password, email) => settle(() => signUp({
    username, password, options: { userAttributes: { email } },
  })),
  confirmSignUp: (username, confirmationCode) => settle(() => confirmSignUp({ username, confirmationCode })),
  signIn: (username, password, authFlowType) => settle(() => signIn({
    username, password, options: authFlowType ? { authFlowType } : undefined,
  })),
  getCurrentUser: () => settle(() => getCurrentUser()),
  fetchAuthSession: (forceRefresh) => settle(async () => tokensOf(await fetchAuthSession({ forceRefresh }))),
  // Identity pools (issue 19): what fetchAuthSession answers about the AWS side of the session.
  fetchAwsSession: (forceRefresh) => settle(async () => {
    const session = await fetchAuthSession({ forceRefresh });
    const c = session.credentials;
    return {
      identityId: session.identityId,
      signedIn: Boolean(session.tokens),
      credentials: c && {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        expiration: c.expiration && c.expiration.toISOString(),
      },
    };
  }),
  fetchUserAttributes: () => settle(() => fetchUserAttributes()),
  updateUserAttributes: (userAttributes) => settle(() => updateUserAttributes({ userAttributes })),
  signOut: (global) => settle(() => signOut({ global })),
  stored: (clientId) => settle(() => stored(clientId)),
  // MFA (issue 17)
  confirmSignIn: (challengeResponse) => settle(() => confirmSignIn({ challengeResponse })),
  setUpTOTP: () => settle(async () => ({ sharedSecret: (await setUpTOTP()).sharedSecret })),
  verifyTOTPSetup: (code, friendlyDeviceName) => settle(() => verifyTOTPSetup({
    code, options: friendlyDeviceName ? { friendlyDeviceName } : undefined,
  })),
  updateMFAPreference: (preference) => settle(() => updateMFAPreference(preference)),
  fetchMFAPreference: () => settle(() => fetchMFAPreference()),
  // Choice-based sign-in and passkeys (issue 18). Dates become ISO strings to cross into Node.
  signInUserAuth: (username, preferredChallenge, password) => settle(() => signIn({
    username, password, options: { authFlowType: 'USER_AUTH', preferredChallenge },
  })),
  associateWebAuthnCredential: () => settle(async () => (await associateWebAuthnCredential()) ?? null),
  listWebAuthnCredentials: () => settle(async () => {
    const { credentials, nextToken } = await listWebAuthnCredentials();
    return {
      nextToken,
      credentials: credentials.map((c) => ({
        ...c, createdAt: c.createdAt instanceof Date ? c.createdAt.toISOString() : c.createdAt,
      })),
    };
  }),
  deleteWebAuthnCredential: (credentialId) => settle(async () => (await deleteWebAuthnCredential({ credentialId })) ?? null),
};
window.cognateReady = true;
