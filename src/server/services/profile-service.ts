import { ProfileError, type ProfileIssue } from '../../encoder/profile/profile-error.js';
import { profileIssues } from '../../encoder/profile/validate.js';
import { PROFILE_NAME } from '../../encoder/profile/limits.js';
import { ProfileService } from '../../gen/desfirepacs/v1/profile_service_pb.js';
import type { ServiceImpl } from '../grpc/service-impl.js';
import { requireName, requirePresent } from '../grpc/validate.js';
import type { ProfileStore } from '../profiles/profile-store.js';

const PROFILE_FIELD = 'profile';

/**
 * ProfileService over the profile store. Profiles are validated with the encoder's own rules
 * (`validateProfile`), so the API refuses exactly what encoding would refuse. ValidateProfile
 * answers with every issue, paths relative to the profile (`applications[0].files[1].size`);
 * PutProfile fails with INVALID_ARGUMENT, paths relative to the request (`profile.name`).
 */
export function profileService(store: ProfileStore): ServiceImpl<typeof ProfileService> {
  return {
    async putProfile(request) {
      const profile = requirePresent(request.profile, PROFILE_FIELD);
      try {
        return store.put(profile);
      } catch (error) {
        if (error instanceof ProfileError) throw new ProfileError(error.subject, error.issues.map(inRequest));
        throw error;
      }
    },
    async getProfile(request) {
      return { profile: store.get(requireName(request.name, 'name', 64, PROFILE_NAME)) };
    },
    async listProfiles() {
      return { profiles: store.list() };
    },
    async validateProfile(request) {
      const issues = profileIssues(requirePresent(request.profile, PROFILE_FIELD));
      return { valid: issues.length === 0, violations: issues.map((issue) => ({ field: issue.path, message: issue.message })) };
    },
  };
}

/** An issue's path as a field of the request, which holds the profile in `profile`. */
function inRequest(issue: ProfileIssue): ProfileIssue {
  return { path: issue.path === '' ? PROFILE_FIELD : `${PROFILE_FIELD}.${issue.path}`, message: issue.message };
}
