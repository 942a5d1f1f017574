/** The service's configuration: embedded defaults, a config file, environment variables, flags. */
export { ConfigError } from './config-error.js';
export { loadConfig, type ConfigSources, type Environment } from './load-config.js';
export { defaultServiceConfig, LOG_LEVELS, type AccessConfig, type LogLevel, type RelayConfig, type ServiceConfig, type StationsConfig } from './service-config.js';
export { CONFIG_FILE_ENV, SETTINGS, type Setting } from './settings.js';
