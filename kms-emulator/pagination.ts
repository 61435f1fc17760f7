import { invalidArgument, unimplemented } from "./errors";

/** Fields every List request shares. */
export interface ListRequest {
    pageSize?: number;
    pageToken?: string;
    filter?: string;
    orderBy?: string;
}

/** Used when page_size is 0 ("the server will pick an appropriate default") and as the cap on larger sizes. */
const MAX_PAGE_SIZE = 1000;

/**
 * One page of a listing, as AIP-158 and the Cloud KMS List responses define it: `next_page_token` is empty on
 * the last page, `total_size` counts every match. Tokens are opaque, bound to the parent they were issued for
 * (reusing one elsewhere is INVALID_ARGUMENT), and hold an offset: stable, because nothing is ever deleted and
 * new items are appended in creation order.
 */
export function paginate<T>(items: readonly T[], request: ListRequest, parent: string): { page: T[]; nextPageToken: string; totalSize: number } {
    if (request.filter) throw unimplemented("List filter");
    if (request.orderBy) throw unimplemented("List order_by");
    const pageSize = request.pageSize ?? 0;
    if (!Number.isInteger(pageSize) || pageSize < 0) throw invalidArgument(`page_size must not be negative, got ${pageSize}`);
    const start = request.pageToken ? decodeToken(request.pageToken, parent, items.length) : 0;
    const end = Math.min(items.length, start + (pageSize === 0 ? MAX_PAGE_SIZE : Math.min(pageSize, MAX_PAGE_SIZE)));
    return {
        page: items.slice(start, end),
        nextPageToken: end < items.length ? Buffer.from(JSON.stringify({ parent, offset: end })).toString("base64url") : "",
        totalSize: items.length,
    };
}

function decodeToken(token: string, parent: string, count: number): number {
    try {
        const decoded = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { parent?: unknown; offset?: unknown };
        const offset = decoded.offset;
        if (decoded.parent === parent && Number.isInteger(offset) && (offset as number) >= 0 && (offset as number) <= count) {
            return offset as number;
        }
    } catch {
        // fall through to the error below
    }
    throw invalidArgument(`Invalid page_token "${token}" for parent ${parent}`);
}
