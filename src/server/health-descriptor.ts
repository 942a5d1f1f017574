import { create } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label as Label, FieldDescriptorProto_Type as Type, FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';

const PACKAGE = 'grpc.health.v1';
const OPTIONAL = Label.OPTIONAL;

/**
 * grpc.health.v1 as a file descriptor, for server reflection: the schema of the gRPC project's
 * grpc/health/v1/health.proto, which grpc-health-check serves (Check, Watch, List). Written out
 * here because the descriptor protobuf.js derives from that file (through proto-loader) names
 * types relatively and its map entry "Statuses", which Go clients such as buf curl refuse.
 */
export const HEALTH_FILE: FileDescriptorProto = create(FileDescriptorProtoSchema, {
  name: 'grpc/health/v1/health.proto',
  package: PACKAGE,
  syntax: 'proto3',
  messageType: [
    { name: 'HealthListRequest' },
    {
      name: 'HealthListResponse',
      field: [{ name: 'statuses', jsonName: 'statuses', number: 1, label: Label.REPEATED, type: Type.MESSAGE, typeName: `.${PACKAGE}.HealthListResponse.StatusesEntry` }],
      nestedType: [
        {
          name: 'StatusesEntry',
          field: [
            { name: 'key', jsonName: 'key', number: 1, label: OPTIONAL, type: Type.STRING },
            { name: 'value', jsonName: 'value', number: 2, label: OPTIONAL, type: Type.MESSAGE, typeName: `.${PACKAGE}.HealthCheckResponse` },
          ],
          options: { mapEntry: true },
        },
      ],
    },
    { name: 'HealthCheckRequest', field: [{ name: 'service', jsonName: 'service', number: 1, label: OPTIONAL, type: Type.STRING }] },
    {
      name: 'HealthCheckResponse',
      field: [{ name: 'status', jsonName: 'status', number: 1, label: OPTIONAL, type: Type.ENUM, typeName: `.${PACKAGE}.HealthCheckResponse.ServingStatus` }],
      enumType: [
        {
          name: 'ServingStatus',
          value: [
            { name: 'UNKNOWN', number: 0 },
            { name: 'SERVING', number: 1 },
            { name: 'NOT_SERVING', number: 2 },
            { name: 'SERVICE_UNKNOWN', number: 3 },
          ],
        },
      ],
    },
  ],
  service: [
    {
      name: 'Health',
      method: [
        { name: 'Check', inputType: `.${PACKAGE}.HealthCheckRequest`, outputType: `.${PACKAGE}.HealthCheckResponse` },
        { name: 'Watch', inputType: `.${PACKAGE}.HealthCheckRequest`, outputType: `.${PACKAGE}.HealthCheckResponse`, serverStreaming: true },
        { name: 'List', inputType: `.${PACKAGE}.HealthListRequest`, outputType: `.${PACKAGE}.HealthListResponse` },
      ],
    },
  ],
});
