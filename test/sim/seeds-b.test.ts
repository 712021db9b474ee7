import t from 'tap';
import { checkSeeds } from './seed-range.js';

checkSeeds(t, 250, 250);
