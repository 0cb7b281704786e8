/** Where the service listens unless PORT and HOST say otherwise (also read by main.ts before the config loads). */
export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '0.0.0.0';
