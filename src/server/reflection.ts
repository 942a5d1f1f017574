import { create, toBinary, type DescFile, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { loadFileDescriptorSetFromBuffer, type AnyDefinition, type EnumTypeDefinition, type MessageTypeDefinition, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HEALTH_FILE } from './health-descriptor.js';

/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha), so grpcurl and buf curl can call the
 * service without its .proto files. It describes our services from the descriptors protoc-gen-es
 * embedded in src/gen (each service's file and every file it imports, google/protobuf ones
 * included), and grpc.health.v1.
 */
export function reflectionService(services: readonly DescService[]): ReflectionService {
  const files = new Map<string, DescFile>();
  const add = (file: DescFile) => {
    if (files.has(file.name)) return;
    file.dependencies.forEach(add);
    files.set(file.name, file);
  };
  services.forEach((service) => add(service.file));
  const protos: FileDescriptorProto[] = [...files.values()].map((file) => file.proto).concat(HEALTH_FILE);
  const definition = loadFileDescriptorSetFromBuffer(Buffer.from(toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: protos }))));
  // proto-loader re-packs the files one per package and drops their imports (grpc-node issue
  // 2595), which buf curl and grpcurl refuse: reflection serves the files as they are instead.
  const asGenerated = protos.map((proto) => Buffer.from(toBinary(FileDescriptorProtoSchema, proto)));
  const described: PackageDefinition = {};
  for (const [name, entry] of Object.entries(definition)) described[name] = isType(entry) ? { ...entry, fileDescriptorProtos: asGenerated } : entry;
  return new ReflectionService(described);
}

/** A message or enum entry (they carry the files reflection reads); the others are services. */
function isType(entry: AnyDefinition): entry is MessageTypeDefinition<object, object> | EnumTypeDefinition {
  return typeof entry.format === 'string';
}
