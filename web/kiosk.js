import { wireSignIn } from './common.js';

wireSignIn(() => {});
