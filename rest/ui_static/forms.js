// What the entry and rule forms share: showing a REST 400's reason next to the field its `key` names.
import { h } from './dom.js';

export function clearErrors(form) {
  for (const node of form.querySelectorAll('.field-error')) node.remove();
  for (const node of form.querySelectorAll('.invalid')) node.classList.remove('invalid');
  const banner = form.querySelector('.form-error');
  if (banner) banner.textContent = '';
  const done = form.querySelector('.form-done');
  if (done) done.textContent = '';
}

// error: an ApiError. The reason goes into the form's banner and, when the reply names a key that a field of the
// form holds (fieldFor(key) -> an input or null), next to that field too.
export function showError(form, error, fieldFor) {
  clearErrors(form);
  form.querySelector('.form-error').textContent = (error.status ? error.status + ': ' : '') + (error.reason || error.message);
  const field = error.key ? fieldFor(error.key) : null;
  if (field) {
    field.classList.add('invalid');
    field.after(h('span', { className: 'field-error' }, error.reason));
    field.focus();
  }
}

export function showDone(form, text) {
  clearErrors(form);
  form.querySelector('.form-done').textContent = text;
}

export function labelled(label, input) {
  return h('label', {}, h('span', {}, label), input);
}
