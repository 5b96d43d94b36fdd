"""The application: composes the measuring, provisioning and deciding packages."""
