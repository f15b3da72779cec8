/** Role-based access control: may a role use a privilege on a resource, and may it even see the resource. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.3.0")
package io.coffer.api.rbac;
