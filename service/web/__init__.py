"""What the browser pages share beyond their templates: server-side sessions and their CSRF protection."""
