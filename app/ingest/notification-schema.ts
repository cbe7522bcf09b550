import Joi from 'joi';
import { BeepError, type ErrorCode } from '../domain/errors';
import type { NotificationInput, NotificationSource } from '../domain/notification';
import { DEFAULT_PRIORITY, parsePriority, PRIORITY_NAMES, type Priority } from '../domain/priority';
import { MAX_BODY_BYTES, MAX_TITLE_BYTES } from '../config/defaults';

// PROTOCOL.md's notification body, validated with joi; each rule maps to one stable error code.

const MAX_APP_BYTES = 64;
const MAX_TAGS = 10;
const MAX_TAG_BYTES = 32;
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A string rule measured in UTF-8 bytes, as PROTOCOL.md counts them. */
const bytes = (max: number) =>
  Joi.string().custom((value: string, helpers) =>
    Buffer.byteLength(value, 'utf8') > max ? helpers.error('string.bytes', { max }) : value,
  );

/** JSON priorities are a number 1-5 or a name; a numeric string ("3") is neither (PROTOCOL.md). */
const priority = Joi.custom((value: unknown, helpers) => {
  const named = typeof value !== 'string' || (PRIORITY_NAMES as readonly string[]).includes(value.toLowerCase());
  return (named && parsePriority(value)) || helpers.error('priority.invalid');
});

/** Messages for the custom error codes above (joi has none for them). */
const MESSAGES = {
  'string.bytes': '{{#label}} must be at most {{#max}} bytes',
  'priority.invalid': '{{#label}} must be 1-5 or min, low, default, high, urgent',
};

const schema = Joi.object({
  title: bytes(MAX_TITLE_BYTES).trim().min(1).required(),
  body: bytes(MAX_BODY_BYTES).allow('').default(''),
  app: bytes(MAX_APP_BYTES).trim().allow('').default(''),
  priority: priority.default(DEFAULT_PRIORITY),
  tags: Joi.array().items(bytes(MAX_TAG_BYTES).trim().min(1)).max(MAX_TAGS).default([]),
  url: Joi.string().uri({ scheme: ['http', 'https'] }).max(2048).allow(null).default(null),
  topic: Joi.string().pattern(ID_PATTERN).allow(null).default(null),
  id: Joi.string().pattern(ID_PATTERN),
})
  .unknown(false)
  // convert: true only lets `.trim()` trim (joi's strings never convert from other types);
  // with convert: false it refuses any padded title instead of trimming it.
  .prefs({ abortEarly: false, convert: true, messages: MESSAGES });

/** Which catalog code a joi failure becomes: by field, then by kind of failure. */
function codeFor(detail: Joi.ValidationErrorItem): ErrorCode {
  const field = String(detail.path[0] ?? '');
  const type = detail.type;
  if (type === 'object.unknown') return 'unknown_field';
  if (type === 'object.base') return 'invalid_type';
  switch (field) {
    case 'title':
      if (type === 'string.bytes') return 'title_too_long';
      return type === 'any.required' || type === 'string.empty' || type === 'string.min' ? 'title_required' : 'invalid_type';
    case 'body':
      return type === 'string.bytes' ? 'body_too_long' : 'invalid_type';
    case 'app':
      return type === 'string.bytes' ? 'app_too_long' : 'invalid_type';
    case 'priority':
      return 'invalid_priority';
    case 'tags':
      return type === 'array.max' ? 'too_many_tags' : detail.path.length > 1 ? 'invalid_tag' : 'invalid_type';
    case 'url':
      return 'invalid_url';
    case 'topic':
      return 'invalid_topic';
    case 'id':
      return 'invalid_id';
    default:
      return 'validation_failed';
  }
}

/** Validates a client's JSON body; throws a BeepError naming the first problem (all are in details). */
export function parseNotification(body: unknown, source: NotificationSource): NotificationInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BeepError('invalid_type', 'The request body must be a JSON object.');
  }
  // joi's clone of the body drops an own `__proto__` key unseen: refuse it like any unknown field.
  if (Object.prototype.hasOwnProperty.call(body, '__proto__')) {
    const problems = [{ field: '__proto__', code: 'unknown_field', message: '"__proto__" is not allowed' }];
    throw new BeepError('unknown_field', undefined, { details: { problems } });
  }
  const { value, error } = schema.validate(body);
  if (error) {
    const problems = error.details.map((d) => ({ field: d.path.join('.'), code: codeFor(d), message: d.message }));
    throw new BeepError(problems[0].code, undefined, { details: { problems } });
  }
  return {
    id: value.id,
    title: value.title,
    body: value.body,
    app: value.app,
    priority: parsePriority(value.priority) as Priority,
    tags: value.tags,
    url: value.url,
    topic: value.topic,
    source,
  };
}
