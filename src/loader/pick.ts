/** `pick` now lives in @kbuild/loader; kept for tests other branches are changing. Import from '@kbuild/loader' in new code. */
export { pick, describePick, versionMatches, type PickResult, type PickMode, type PickOptions, type PickedBtf, type Rejection } from '@kbuild/loader';
