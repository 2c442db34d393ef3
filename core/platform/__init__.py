"""The plumbing every area stands on: environment config, the database and its unit of work,
the clock, domain errors, i18n and its locales, stored settings, the audit log, the vault,
rate limits, gap-free sequences, uploads, outgoing mail and migrations."""
