// The dashboard's sign-in: posts the admin token as JSON (the admin API accepts no form bodies).
'use strict';
document.getElementById('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const message = document.getElementById('message');
  message.hidden = true;
  const token = document.getElementById('token').value;
  try {
    const r = await fetch('/api/ui/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token }),
      credentials: 'same-origin',
    });
    if (r.ok) {
      location.assign('/api/ui');
      return;
    }
    const body = await r.json().catch(() => null);
    message.textContent = (body && body.error && body.error.message) || ('sign-in failed: HTTP ' + r.status);
  } catch (e) {
    message.textContent = 'sign-in failed: ' + e;
  }
  message.hidden = false;
});
