// The Worker's JavaScript entry: exports the Rust `fetch` handler and the `StoreShard` Durable
// Object class from the wasm-bindgen output (`build/index.js`). Adapted from workers-rs'
// worker-build shim (Apache-2.0): after a Rust panic or a Wasm trap the instance is in an
// unknown state, so the next call resets it (`__wbg_reset_state`) instead of reusing it.
import { WorkerEntrypoint } from "cloudflare:workers";
import * as exports from "./index.js";

Error.stackTraceLimit = 100;
const initState = exports.__worker_init_state();

function checkReinitialize() {
  if (initState.criticalError) {
    console.log("Reinitializing the Wasm instance after a critical error");
    exports.__wbg_reset_state();
    initState.criticalError = false;
    initState.instanceId++;
  }
}

function handleMaybeCritical(e) {
  if (e instanceof WebAssembly.RuntimeError) {
    console.error("Critical", e);
    initState.criticalError = true;
  }
}

addEventListener("error", (e) => handleMaybeCritical(e.error));

class Entrypoint extends WorkerEntrypoint {
  async fetch(request) {
    checkReinitialize();
    try {
      return await exports.fetch.call(this, request, this.env, this.ctx);
    } catch (e) {
      handleMaybeCritical(e);
      throw e;
    }
  }
}

// Durable Object instances are long-lived: after a reset, the next call rebuilds the Rust
// object (its state lives in SQLite, not in the instance).
const classProxyHooks = {
  construct(ctor, args, newTarget) {
    checkReinitialize();
    const holder = {
      instance: Reflect.construct(ctor, args, newTarget),
      instanceId: initState.instanceId,
    };
    // The runtime reads the handler methods once, when it constructs the object, and keeps
    // them: so the check for a reset instance happens at every call, not at property access.
    const current = () => {
      if (holder.instanceId !== initState.instanceId) {
        holder.instance = Reflect.construct(ctor, args, newTarget);
        holder.instanceId = initState.instanceId;
      }
      return holder.instance;
    };
    return new Proxy(holder, {
      get(target, prop) {
        const original = Reflect.get(current(), prop);
        if (typeof original !== "function") return original;
        return async function (...argArray) {
          checkReinitialize();
          const instance = current();
          try {
            return await Reflect.get(instance, prop).apply(instance, argArray);
          } catch (e) {
            handleMaybeCritical(e);
            throw e;
          }
        };
      },
    });
  },
};

export const StoreShard = new Proxy(exports.StoreShard, classProxyHooks);
export default Entrypoint;
