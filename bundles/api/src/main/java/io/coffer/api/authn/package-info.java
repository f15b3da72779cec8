/** Authentication: access tokens in Conjur's framing, and the accounts whose signing keys issue them. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.coffer.api.authn;
