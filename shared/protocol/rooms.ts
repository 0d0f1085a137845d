/** Socket.IO room names: the only place they are spelled. */
export const WALL_ROOM = 'wall'
export const regionRoom = (regionId: string): string => `region:${regionId}`
