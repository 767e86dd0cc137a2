/** Rejections are `AuthError`s: `name` is Cognito's exception name (`NotAuthorizedException`,
 * `UsernameExistsException`, ...) or the SDK's own (`UserUnAuthenticatedException`,
 * `AuthUserPoolException`, `InvalidIdTokenException`, `SignInException`,
 * `OAuthSignInException`, `NetworkError`); `message` is the server's message. */
export interface AuthError extends Error { name: string; message: string; }

/** Amplify's `KeyValueStorageInterface`: methods may return values or promises. */
export interface KeyValueStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

export interface OAuthConfig {
  /** The page the hosted UI returns to (one of the client's callback URLs); a list uses its first entry. */
  redirectSignIn: string | string[];
  /** Default `["openid", "email", "profile"]`; add `aws.cognito.signin.user.admin` to call GetUser with hosted-UI tokens. */
  scopes?: string[];
  /** Where `/oauth2/authorize` and `/oauth2/token` are served; the endpoint by default. */
  domain?: string;
  /** Opens the authorize URL; `location.assign` by default. */
  urlOpener?: (url: string) => void | Promise<void>;
}

export interface AuthConfig {
  /** The Cognate host (or Cognito's regional endpoint), e.g. `http://127.0.0.1:9229`. */
  endpoint: string;
  userPoolId: string;
  userPoolClientId: string;
  /** Default `"localStorage"`. */
  storage?: "localStorage" | "sessionStorage" | "memory" | KeyValueStorage;
  oauth?: OAuthConfig;
  /** Replaces the global `fetch`. */
  fetch?: typeof fetch;
  /** The tokens' `iss`; `<endpoint>/<userPoolId>` by default. */
  issuer?: string;
  /** Refresh when the access token expires within this many seconds (default 60). */
  tokenRefreshMarginSeconds?: number;
  /** An identity pool (`<region>:<uuid>`): fetchAuthSession then answers identityId and AWS credentials. */
  identityPoolId?: string;
  /** Where the identity-pools API is served; the endpoint by default. */
  identityPoolEndpoint?: string;
  /** A visitor who is not signed in gets guest credentials (the pool must allow unauthenticated identities). */
  allowGuestAccess?: boolean;
}

export type ClientMetadata = Record<string, string>;
export type UserAttributes = Record<string, string>;

export interface CodeDeliveryDetails {
  destination: string;
  deliveryMedium: "EMAIL" | "SMS" | string;
  attributeName: string;
}

export interface SignUpInput {
  username: string;
  password: string;
  options?: { userAttributes?: UserAttributes; validationData?: Record<string, string>; clientMetadata?: ClientMetadata };
}
export interface ConfirmSignUpInput { username: string; confirmationCode: string; options?: { clientMetadata?: ClientMetadata } }
export interface UsernameInput { username: string; options?: { clientMetadata?: ClientMetadata } }
export interface SignUpOutput {
  isSignUpComplete: boolean;
  userId?: string;
  nextStep: { signUpStep: "CONFIRM_SIGN_UP" | "DONE"; codeDeliveryDetails?: CodeDeliveryDetails };
}

export type SignInStep =
  | "DONE"
  | "CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED"
  | "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE"
  | "CONFIRM_SIGN_IN_WITH_SMS_CODE"
  | "CONFIRM_SIGN_IN_WITH_TOTP_CODE"
  | "CONFIRM_SIGN_IN_WITH_EMAIL_CODE"
  | "CONTINUE_SIGN_IN_WITH_MFA_SELECTION"
  | "CONTINUE_SIGN_IN_WITH_TOTP_SETUP"
  | "CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION"
  | "CONFIRM_SIGN_IN_WITH_PASSWORD";
/** USER_AUTH's first factors (`preferredChallenge`, and the answers to CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION). */
export type AuthFactorType = "WEB_AUTHN" | "EMAIL_OTP" | "SMS_OTP" | "PASSWORD" | "PASSWORD_SRP";
export interface SignInNextStep {
  signInStep: SignInStep;
  /** NEW_PASSWORD_REQUIRED: attributes to pass in `confirmSignIn`'s `options.userAttributes`. */
  missingAttributes?: string[];
  /** Other challenges: the challenge's public parameters. */
  additionalInfo?: Record<string, string>;
  /** CONTINUE_SIGN_IN_WITH_TOTP_SETUP: the key for the authenticator app. */
  totpSetupDetails?: { sharedSecret: string };
  /** CONTINUE_SIGN_IN_WITH_MFA_SELECTION: answer `confirmSignIn` with one of these. */
  allowedMFATypes?: MFAType[];
  /** CONFIRM_SIGN_IN_WITH_SMS_CODE / _EMAIL_CODE: where the code went (masked). */
  codeDeliveryDetails?: { deliveryMedium: string; destination: string };
  /** CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION: answer `confirmSignIn` with one of these. */
  availableChallenges?: AuthFactorType[];
}
export type MFAType = "SMS" | "TOTP" | "EMAIL";
export type MFAPreference = "ENABLED" | "DISABLED" | "PREFERRED" | "NOT_PREFERRED";
export interface VerifyTOTPSetupInput { code: string; options?: { friendlyDeviceName?: string } }
export interface UpdateMFAPreferenceInput { sms?: MFAPreference; totp?: MFAPreference; email?: MFAPreference }
export interface FetchMFAPreferenceOutput { enabled?: MFAType[]; preferred?: MFAType }
export interface ForgetDeviceInput { device?: { id: string } }
export type FetchDevicesOutput = {
  id: string; name?: string; attributes: Record<string, string>;
  createDate?: Date; lastAuthenticatedDate?: Date; lastModifiedDate?: Date;
}[];
export interface SignInInput {
  username: string;
  password?: string;
  options?: {
    authFlowType?: "USER_SRP_AUTH" | "USER_PASSWORD_AUTH" | "CUSTOM_WITHOUT_SRP" | "CUSTOM_WITH_PASSWORD" | "USER_AUTH";
    /** USER_AUTH: start this factor (PASSWORD and PASSWORD_SRP need `password`); WEB_AUTHN runs navigator.credentials.get. */
    preferredChallenge?: AuthFactorType;
    clientMetadata?: ClientMetadata;
  };
}
export interface SignInOutput { isSignedIn: boolean; nextStep: SignInNextStep }
export interface ConfirmSignInInput {
  challengeResponse: string;
  options?: { userAttributes?: UserAttributes; clientMetadata?: ClientMetadata; friendlyDeviceName?: string };
}
export interface SignOutInput { global?: boolean }

export interface AuthUser { username: string; userId: string }
export interface FetchAuthSessionInput { forceRefresh?: boolean }
export interface AWSCredentials { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date }
export interface AuthSession {
  tokens?: { accessToken: JWT; idToken?: JWT };
  userSub?: string;
  /** With an identity pool configured: the identity and its temporary AWS credentials. */
  identityId?: string;
  credentials?: AWSCredentials;
}

export interface UpdateUserAttributesInput { userAttributes: UserAttributes }
export type UpdateUserAttributesOutput = Record<string, {
  isUpdated: boolean;
  nextStep: { updateAttributeStep: "CONFIRM_ATTRIBUTE_WITH_CODE" | "DONE"; codeDeliveryDetails?: CodeDeliveryDetails };
}>;
export interface ConfirmUserAttributeInput { userAttributeKey: string; confirmationCode: string }

export interface ResetPasswordOutput {
  isPasswordReset: boolean;
  nextStep: { resetPasswordStep: "CONFIRM_RESET_PASSWORD_WITH_CODE" | "DONE"; codeDeliveryDetails?: CodeDeliveryDetails };
}
export interface ConfirmResetPasswordInput { username: string; confirmationCode: string; newPassword: string; options?: { clientMetadata?: ClientMetadata } }
export interface UpdatePasswordInput { oldPassword: string; newPassword: string }

/** Passkeys: `associateWebAuthnCredential()` registers one (navigator.credentials.create). */
export interface ListWebAuthnCredentialsInput { pageSize?: number; nextToken?: string }
export interface AuthWebAuthnCredential {
  credentialId: string; friendlyCredentialName?: string; relyingPartyId: string;
  authenticatorAttachment?: string; authenticatorTransports?: string[]; createdAt?: Date;
}
export interface ListWebAuthnCredentialsOutput { credentials: AuthWebAuthnCredential[]; nextToken?: string }
export interface DeleteWebAuthnCredentialInput { credentialId: string }
