/** URLPattern from urlpattern-polyfill (the WPT-tested polyfill the URLPattern spec's authors keep). */
import { URLPattern } from 'urlpattern-polyfill/urlpattern';
import { defineGlobals } from './install.js';

defineGlobals({ URLPattern });
