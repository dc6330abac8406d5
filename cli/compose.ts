/**
 * `trustnet compose`: a network of N validators and a service as Docker containers. Writes the
 * network's keys and genesis under OUT/network (each validator listens on 0.0.0.0 and is dialled
 * by its service name `validator-<i>`) and OUT/compose.yml: one service per validator and one for
 * the trustnet service, data in named volumes, homes mounted read-only, health checks, an internal
 * network, and only the service's HTTP port published. compose.yml holds no secret: it is the
 * same for the same options, and the keys stay in OUT/network.
 */
import { chown, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ConfigError } from '../lib/json-file.js'
import { clusterPorts, initNetwork, nodeHome, serviceConfigPath, type Placement } from './init.js'

/** The user the image runs as (`USER` in docker/Dockerfile; `node` in the official Node images). */
export const IMAGE_USER = { uid: 1000, gid: 1000 }
/** Where the image keeps data: each container mounts its own named volume here. */
export const CONTAINER_DATA_DIR = '/var/lib/trustnet'
/** Where the generated network is mounted in the containers, piece by piece. */
const CONTAINER_NETWORK_DIR = '/trustnet'
/** compose.yml refers to the network's files relative to itself. */
export const NETWORK_SUBDIR = 'network'

export const validatorName = (i: number): string => `validator-${i}`

export interface ComposeSpec {
  validators: number
  basePort: number
  /** The trustnet image every container runs (built from docker/Dockerfile). */
  image: string
  /** Host address the service's HTTP port is published on. */
  publish: string
  /** `uid:gid` the containers run as: they must be able to read the generated keys. */
  user: string
  /** An image with `tc` and `iptables` for the impairment sidecar (profile `impair`). */
  impairImage: string
}

export interface ComposeOptions extends Omit<ComposeSpec, 'user'> {
  out: string
  chainId?: string
  force?: boolean
}

type Service = Record<string, unknown>

/** A health check that asks an HTTP endpoint inside the container with node itself (the image has no curl). */
function healthCheck (url: string): Record<string, unknown> {
  return {
    test: ['CMD', 'node', '-e', `fetch('${url}').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
    interval: '3s',
    // Generous: a node process starting on a busy machine can take seconds.
    timeout: '10s',
    retries: 3,
    start_period: '60s'
  }
}

/** The compose document for a generated network (pure: the same spec gives the same document). */
export function composeDocument (spec: ComposeSpec): Record<string, unknown> {
  const ports = clusterPorts(spec.basePort, spec.validators)
  const common = { image: spec.image, user: spec.user, init: true, restart: 'unless-stopped' }
  const genesisMount = `./${NETWORK_SUBDIR}/genesis.json:${CONTAINER_NETWORK_DIR}/genesis.json:ro`
  const services: Record<string, Service> = {}
  const volumes: Record<string, Record<string, never>> = {}
  for (let i = 0; i < spec.validators; i++) {
    const name = validatorName(i)
    services[name] = {
      ...common,
      hostname: name,
      command: ['node', '--home', `${CONTAINER_NETWORK_DIR}/node-${i}`],
      volumes: [genesisMount, `./${NETWORK_SUBDIR}/node-${i}:${CONTAINER_NETWORK_DIR}/node-${i}:ro`, `${name}-data:${CONTAINER_DATA_DIR}`],
      networks: ['validators'],
      healthcheck: healthCheck(`http://127.0.0.1:${ports.http[i] as number}/status`)
    }
    volumes[`${name}-data`] = {}
  }
  services.service = {
    ...common,
    hostname: 'service',
    command: ['service', '--config', `${CONTAINER_NETWORK_DIR}/service/service.json`],
    volumes: [genesisMount, `./${NETWORK_SUBDIR}/service:${CONTAINER_NETWORK_DIR}/service:ro`, `service-data:${CONTAINER_DATA_DIR}`],
    // The validators' network is internal (no way out); the service alone also joins one that can publish a port.
    networks: ['validators', 'clients'],
    ports: [`${spec.publish}:${ports.service}:${ports.service}`],
    depends_on: Object.fromEntries(Array.from({ length: spec.validators }, (_, i) => [validatorName(i), { condition: 'service_healthy' }])),
    healthcheck: healthCheck(`http://127.0.0.1:${ports.service}/v1/health`)
  }
  volumes['service-data'] = {}
  // Started only with `--profile impair`: shares validator-0's network stack to shape its traffic.
  services.impair = {
    image: spec.impairImage,
    profiles: ['impair'],
    network_mode: `service:${validatorName(0)}`,
    cap_add: ['NET_ADMIN'],
    command: ['sleep', 'infinity']
  }
  return {
    name: 'trustnet',
    services,
    networks: { validators: { internal: true }, clients: {} },
    volumes
  }
}

/**
 * compose.yml's text. JSON is YAML 1.2 and compose reads it; no YAML library is a dependency
 * of the project, and the file is generated, not edited.
 */
export function composeYaml (spec: ComposeSpec): string {
  return JSON.stringify(composeDocument(spec), null, 2) + '\n'
}

/** The user the containers run as, and whether the generated keys must be handed to it. */
function containerUser (): { user: string, chownTo?: { uid: number, gid: number } } {
  const uid = process.getuid?.() ?? IMAGE_USER.uid
  const gid = process.getgid?.() ?? IMAGE_USER.gid
  // root hands the keys to the image's user rather than running the containers as root.
  if (uid === 0) return { user: `${IMAGE_USER.uid}:${IMAGE_USER.gid}`, chownTo: IMAGE_USER }
  return { user: `${uid}:${gid}` }
}

/** Point a generated config's data directory at the container's data volume. */
async function useDataVolume (file: string): Promise<void> {
  const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
  config.dataDir = CONTAINER_DATA_DIR
  await writeFile(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
}

/** Create the network's keys and genesis under OUT/network and write OUT/compose.yml. */
export async function composeNetwork (options: ComposeOptions): Promise<{ chainId: string, apiKey: string, file: string, url: string }> {
  const n = options.validators
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new ConfigError('INVALID_FIELD', '--validators must be an integer from 1 to 100')
  const dir = join(options.out, NETWORK_SUBDIR)
  const anywhere = (name: string): Placement => ({ listen: '0.0.0.0', advertise: name })
  const { genesis, apiKey } = await initNetwork({
    validators: n,
    out: dir,
    basePort: options.basePort,
    host: '0.0.0.0',
    chainId: options.chainId,
    force: options.force,
    placement: { validators: Array.from({ length: n }, (_, i) => anywhere(validatorName(i))), service: anywhere('service') }
  })
  const secrets = [...Array.from({ length: n }, (_, i) => join(nodeHome(dir, i), 'node.json')), serviceConfigPath(dir)]
  for (const file of secrets) await useDataVolume(file)
  const { user, chownTo } = containerUser()
  // The homes are private (0700) like their files: the containers' user must own both.
  const homes = [...Array.from({ length: n }, (_, i) => nodeHome(dir, i)), dirname(serviceConfigPath(dir))]
  if (chownTo !== undefined) for (const path of [...homes, ...secrets]) await chown(path, chownTo.uid, chownTo.gid)
  const file = join(options.out, 'compose.yml')
  await writeFile(file, composeYaml({ ...options, user }))
  const port = clusterPorts(options.basePort, n).service
  return { chainId: genesis.chainId, apiKey, file, url: `http://${options.publish}:${port}` }
}
