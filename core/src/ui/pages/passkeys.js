// Cognate's hosted UI: the passkey pages' one script (served at /passkeys.js). The page's form
// carries `ceremony` ("get" or "create"), `options` (the server's JSON options for
// navigator.credentials) and an empty `credential`; on submit this runs the ceremony and posts
// the credential as JSON (WebAuthn Level 3's AuthenticationResponseJSON /
// RegistrationResponseJSON, byte fields in base64url).
(function () {
  "use strict";
  var field = document.querySelector("form input[name=credential]");
  if (!field || !window.PublicKeyCredential) return;
  var form = field.form;

  function bytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }

  function text(buffer) {
    var view = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < view.length; i++) raw += String.fromCharCode(view[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function show(message) {
    var p = document.getElementById("passkey-error");
    if (!p) {
      p = document.createElement("p");
      p.id = "passkey-error";
      p.className = "error";
      p.setAttribute("role", "alert");
      form.parentNode.insertBefore(p, form);
    }
    p.textContent = message;
  }

  form.addEventListener("submit", function (event) {
    if (field.value) return;
    event.preventDefault();
    var create = form.elements.ceremony.value === "create";
    var options = JSON.parse(form.elements.options.value);
    options.challenge = bytes(options.challenge);
    var listed = create ? options.excludeCredentials : options.allowCredentials;
    (listed || []).forEach(function (c) { c.id = bytes(c.id); });
    if (create) options.user.id = bytes(options.user.id);
    var ceremony = create
      ? navigator.credentials.create({ publicKey: options })
      : navigator.credentials.get({ publicKey: options });
    ceremony.then(function (credential) {
      var r = credential.response;
      var json = {
        id: credential.id,
        rawId: text(credential.rawId),
        type: credential.type,
        clientExtensionResults: credential.getClientExtensionResults(),
        response: { clientDataJSON: text(r.clientDataJSON) }
      };
      if (credential.authenticatorAttachment) {
        json.authenticatorAttachment = credential.authenticatorAttachment;
      }
      if (create) {
        json.response.attestationObject = text(r.attestationObject);
        json.response.transports = r.getTransports ? r.getTransports() : [];
      } else {
        json.response.authenticatorData = text(r.authenticatorData);
        json.response.signature = text(r.signature);
        if (r.userHandle) json.response.userHandle = text(r.userHandle);
      }
      field.value = JSON.stringify(json);
      form.submit();
    }, function (error) {
      show("Your passkey was not used (" + error.name + "). Try again, or go back and sign in another way.");
    });
  });
})();
