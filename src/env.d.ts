/** Bindings that are optional and so not in the generated worker-configuration.d.ts. */
interface Env {
  /** The previous hook secret, accepted alongside OKTA_HOOK_SECRET while rotating. */
  OKTA_HOOK_SECRET_PREVIOUS?: string;
}
