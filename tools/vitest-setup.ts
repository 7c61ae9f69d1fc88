// Every tfjs test file starts on the backend chosen like the app chooses it (MTL_BACKEND or auto).
import { selectBackend } from '@mtl/core';

await selectBackend();
