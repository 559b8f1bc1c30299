/**
 * The implicit AI-generated label (隐式标识) carried in every PNG we encode: China's 标识办法 (2025) and
 * GB 45438-2025 ask for file metadata naming the content as AI-generated, the producer and a production id;
 * IPTC's DigitalSourceType says the same for everyone else's tools. On by default (MENGTU_AI_LABEL=0 turns it off).
 */

export interface AiLabelMeta {
  requestId: string;
  /** Who generated the content: the service name (and operator) as configured. */
  producer: string;
  seed: number;
  /** Who publishes it, when known (empty otherwise). */
  propagator?: string;
  propagateId?: string;
  model?: string;
  prompt?: string;
  /** ISO time of generation; defaults to now. */
  createdAt?: string;
}

export const IPTC_TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
export const SOFTWARE = 'mengtu';

/** The GB 45438-2025 metadata fields, as the JSON value of an `AIGC` entry. Label "1": AI-generated. */
export function aigcJson(meta: AiLabelMeta): string {
  return JSON.stringify({
    AIGC: {
      Label: '1',
      ContentProducer: meta.producer,
      ProduceID: meta.requestId,
      ReservedCode1: '',
      ContentPropagator: meta.propagator ?? '',
      PropagateID: meta.propagateId ?? '',
      ReservedCode2: '',
    },
  });
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** An XMP packet with the IPTC digital source type, the tool, the request id and the AIGC label. */
export function xmpPacket(meta: AiLabelMeta): string {
  const created = meta.createdAt ?? new Date().toISOString();
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '  <rdf:Description rdf:about=""',
    '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
    '    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"',
    '    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"',
    '    xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"',
    `    Iptc4xmpExt:DigitalSourceType="${IPTC_TRAINED_ALGORITHMIC_MEDIA}"`,
    `    xmp:CreatorTool="${xmlEscape(SOFTWARE)}"`,
    `    xmp:CreateDate="${xmlEscape(created)}"`,
    `    xmpMM:DocumentID="${xmlEscape(meta.requestId)}"`,
    `    photoshop:Credit="${xmlEscape(meta.producer)}"`,
    `    TC260:AIGC="${xmlEscape(aigcJson(meta))}"/>`,
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="r"?>',
  ].join('\n');
}

/** Human-readable one-liner for the PNG `Description` entry. */
export function description(meta: AiLabelMeta): string {
  const model = meta.model ? `, model ${meta.model}` : '';
  return `AI-generated image (mengtu${model}); request ${meta.requestId}, seed ${meta.seed}`;
}
