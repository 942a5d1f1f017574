import { clone } from '@bufbuild/protobuf';
import { ProfileSchema, type Profile } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import { loadShippedProfile } from '../../../src/server/profiles/shipped-profiles.js';

/** generic-pacs-v1 under another name and description. */
export async function variant(name: string, description = `variant ${name}`): Promise<Profile> {
  const profile = clone(ProfileSchema, await loadShippedProfile('generic-pacs-v1'));
  profile.name = name;
  profile.description = description;
  return profile;
}
