import { z } from 'zod';

export const Id = z.uuid().meta({ description: 'A UUID' });
export const Timestamp = z.iso.datetime({ offset: true }).meta({ description: 'An ISO 8601 time' });

export const PageInput = z.object({
  cursor: z.string().max(500).optional().meta({ description: 'The nextCursor of the previous page' }),
  limit: z.number().int().min(1).max(200).default(50),
});

export function page<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last page' }),
  });
}

/** An IP address or CIDR block, IPv4 or IPv6. */
export const IpOrCidr = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]);
